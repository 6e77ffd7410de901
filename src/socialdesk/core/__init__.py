"""Infrastructure shared by every domain: database, clock, errors, event bus."""
