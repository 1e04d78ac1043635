"""Solar plants on site: the export read to IEC 61724-1 channels, and the plant's summaries (issue 21)."""
