"""Hostile input over real pipes: the real server and the real client against broken peers."""
