"""Training mixes: a spec (spec), its arithmetic (plan), and the Beam job that samples it (job)."""
