"""Device physics: ubermag descriptions of the skyrmion synapse and the DW activation, micromagnetic
engines (devices.engine), measurements on magnetisation fields (devices.measure), fits and tables."""
