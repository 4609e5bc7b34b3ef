//! A faithful in-memory PTV (v11 and v12 import APIs) for tests, the demo and benchmarks.
