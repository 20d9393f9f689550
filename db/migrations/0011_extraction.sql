-- 0011: what extraction learns besides the text (issue 16).
--
-- chunks.ocr: the chunk's text came (at least in part) from OCR of a scanned
-- page or an image, so a reader knows to allow for recognition errors.
-- document_versions.meta_title / meta_author: from the file's own metadata
-- (Office core properties, OpenDocument meta, EPUB dc:title, an e-mail's
-- Subject/From, PDF Info), '' when the file has none.
ALTER TABLE chunks ADD COLUMN ocr boolean NOT NULL DEFAULT false;
ALTER TABLE document_versions ADD COLUMN meta_title text NOT NULL DEFAULT '',
                              ADD COLUMN meta_author text NOT NULL DEFAULT '';

-- The worker may not write documents (0002's write split): this one narrow
-- path gives a document whose upload named no title (core-api then used the
-- file name) the title its file carries. Only a title that is empty or still
-- the file name is replaced, only in the caller's tenant.
CREATE FUNCTION document_title_from_file(p_doc uuid, p_title text, p_filename text) RETURNS boolean
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    WITH done AS (UPDATE public.documents SET title = left(p_title, 500)
                   WHERE doc_id = p_doc AND tenant_id = public.app_tenant_id()
                     AND (title = '' OR title = p_filename) AND p_title <> '' RETURNING 1)
    SELECT EXISTS (SELECT 1 FROM done)
$$;
REVOKE ALL ON FUNCTION document_title_from_file(uuid, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION document_title_from_file(uuid, text, text) TO ingest_worker;
