"""Orders: checkout and order history."""
