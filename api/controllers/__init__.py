"""The API's Litestar controllers, one per resource."""
