/* fuse.c: the `fuse` pass (being written: see issue "Fusion and sharding passes"). */
#include "pass.h"

int pass_fuse(Graph *g, PassCtx *cx) {
    (void)g;
    (void)cx;
    return 0;
}
