"""HTTP pieces of the app: the GraphQL view, middleware, plain routes."""
