"""Application logic, called by the commands, the admin and the web probes; owns the commits."""
