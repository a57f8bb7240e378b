package ingest

// DictPageRows is dictPageRows, for the external tests.
const DictPageRows = dictPageRows
