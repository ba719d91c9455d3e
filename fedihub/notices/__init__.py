"""Notices for organizers: "What's new" per coalition and hub, read marks, and e-mail at once or by digest."""
