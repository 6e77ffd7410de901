"""People: the users of a workspace, their roles and their teams."""
