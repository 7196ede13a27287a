"""Everything that changes the database's schema, and what tells how such a change will go."""
