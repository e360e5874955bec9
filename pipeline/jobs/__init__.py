"""The jobs the command line runs: curate a release, refilter it, count and train tokenizers."""
