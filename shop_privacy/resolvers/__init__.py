"""Thin resolvers: read the context, call a service, map the answer to GraphQL types."""
