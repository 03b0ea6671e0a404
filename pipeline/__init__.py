"""What the stages hand each other: atomic file output (pipeline.io) and the device-table contract."""
