"""`npm run status -- --stack <stack>`: is the stack's Dagster healthy, and what needs a person."""
