"""The data catalogue: one governed entry per source (`entry`), the language registry (`registry`),
and the loader that reads and validates a catalogue directory (`loader`).

Everything a release says about *where data came from and under which terms* is read from
here, so a release can be audited without the code that made it.
"""
