-- 0021: an embedding is stored as its floats' bytes, not as a real[] (issue 13,
-- search at scale; docs/decisions.md "Embeddings stored as bytes").
--
-- chunk_embeddings.vector becomes bytea: dim float4 values, each in IEEE 754
-- single precision, big-endian (network order: the bytes float4send() gives,
-- concatenated), 4 * dim bytes; no array header. common/embed.h
-- (embed_vector_pack / embed_vector_unpack) is the one definition, used by the
-- worker's binary COPY and by core-api's search.
--
-- Why: search reads the vectors of up to 100 candidates a search in binary.
-- Sending a real[] calls array_send(), which calls float4send() for each of
-- its 256 elements through the function manager: 13 us a vector, measured
-- 270 ms for 20,000 vectors against 16 ms for the same number of 1 KiB bytea
-- (COPY ... TO '/dev/null' (FORMAT binary) on the search benchmark's 100k
-- corpus). At 100k chunks the vectors statement was 1.06 ms of a search's
-- ~4.1 ms of PostgreSQL time (pg_stat_statements, 200 questions).
--
-- Works on an existing database: every row is converted in place (one table
-- rewrite, in this migration's transaction), values bit for bit the same.
-- No query filters, joins or sorts on the column (0020 dropped its
-- statistics; the type change keeps that setting).

CREATE FUNCTION pg_temp.float4_array_bytes(v real[]) RETURNS bytea
LANGUAGE sql IMMUTABLE STRICT
RETURN coalesce((SELECT string_agg(float4send(x), ''::bytea ORDER BY i) FROM unnest(v) WITH ORDINALITY u(x, i)),
                ''::bytea);

ALTER TABLE chunk_embeddings DROP CONSTRAINT chunk_embeddings_check;
ALTER TABLE chunk_embeddings ALTER COLUMN vector TYPE bytea USING pg_temp.float4_array_bytes(vector);
ALTER TABLE chunk_embeddings ADD CONSTRAINT chunk_embeddings_vector_bytes CHECK (octet_length(vector) = 4 * dim);
ALTER TABLE chunk_embeddings ALTER COLUMN vector SET STATISTICS 0;
