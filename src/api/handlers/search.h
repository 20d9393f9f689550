/* search.h - POST /v1/search: hybrid retrieval over active versions, citations, abstention. */
#ifndef API_SEARCH_H
#define API_SEARCH_H

#include "api/handlers/rank.h"
#include "api/http/request.h"

void search_handle(struct req *r);   /* POST /v1/search */

/*
 * Which of the n candidates c (scored by rank_finish without a vector) can
 * still be among the m best once their vectors count: a cosine adds at most
 * vec_weight * (1 - min_cosine) * idf_sum to a candidate's total, so one
 * whose rel with a cosine of 1 stays below the m-th best rel without a vector
 * cannot pass the m candidates that keep at least that rel; nor can one
 * whose score with a cosine of 1 stays under RANK_TAIL * min_score be picked;
 * and when no candidate's evidence can reach min_score, the search abstains
 * whatever the vectors (none is kept). Their positions in c into keep (n
 * ints), in c's order; returns how many, or -1 when out of memory. Only those
 * candidates' vectors are read.
 */
int search_vector_reach(const struct rank_query *q, const struct rank_select *o, const struct rank_cand *c, int n,
                        int m, int *keep);

#endif
