"""The GraphQL layer: strawberry types per domain, the extensions, the storefront schema."""
