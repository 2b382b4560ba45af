/* shard.c: the `shard` pass (being written: see issue "Fusion and sharding passes"). */
#include "pass.h"

int pass_shard(Graph *g, PassCtx *cx) {
    (void)g;
    (void)cx;
    return 0;
}
