"""What every domain's GraphQL types share: context, ids, connections, money, errors."""
