"""The raw archive: every request and response in WARC files, indexed in the lake (`raw_index`).

    writer    rolling, crash-safe WARC files and their index rows (WarcWriter)
    recorder  ArchiveRecorder, the PoliteFetcher recorder hook
    reader    ArchiveReader: archived responses for a window and domains
    scan      record-by-record reading that reports damage by file and offset
    records   building and parsing single records (warcio)

Import from the submodules; this package imports nothing so that `wirestance.discovery` can use
`records` without a cycle.
"""
