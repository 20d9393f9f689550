/*
 * main.c - ingest-extract: the extraction helper. ingest-worker posix_spawn()s
 * one per job (sandbox.c), so parsers of untrusted bytes run in a new program
 * image with its own limits, never in a forked copy of the threaded worker.
 * Not meant to be run by hand: its argv and its answer on descriptor 3 are the
 * private protocol of extract_file() (worker/extract/extract.c).
 */
#include "worker/extract/extract.h"

int main(int argc, char **argv)
{
    return extract_child_main(argc, argv);
}
