"""The results directory: its files (:mod:`.files`, :mod:`.chunks`), its lock (:mod:`.lock`), its life
(:mod:`.sweepdir`), its tables (:mod:`.tables`), figures (:mod:`.plots`), the progress bar (:mod:`.progress`),
what it records of the software (:mod:`.meta`), reading it back (:mod:`.load`) and upgrading runs written by
older versions (:mod:`.upgrade`)."""
