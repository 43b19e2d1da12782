"""What every package shares and nothing of the project's is below: settings, errors, ids,
hashing, the model registry, the catalogue's columns and the embedding manifest."""
