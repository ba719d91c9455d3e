"""The coalition domain: coalitions as Group actors, their announcements and calls to action."""
