"""nve: the P4Runtime controller that turns an overlay description into switch state."""
