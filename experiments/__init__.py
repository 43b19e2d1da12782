"""Online experiments on /recommend: A/B tests and team-draft interleaving, with statistics."""
