/* embed_provider.c - what every embeddings provider shares (embed_provider.h). */
#include "common/embed_provider.h"

#include <math.h>

void embed_normalize(float *v, int dim)
{
    double sum = 0;
    int i;

    for (i = 0; i < dim; i++)
        sum += (double)v[i] * v[i];
    if (sum <= 0 || !isfinite(sum))
        return;
    sum = 1.0 / sqrt(sum);
    for (i = 0; i < dim; i++)
        v[i] = (float)(v[i] * sum);
}
