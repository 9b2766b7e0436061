"""cocotb test modules of the suites (copied into each sandbox by CocotbTestbench, not imported here)."""
