/* profile_check.h: recompile-and-compare checking of `ttc profile`'s suggestions (profile_check.c). */
#ifndef TTC_PROFILE_CHECK_H
#define TTC_PROFILE_CHECK_H

#include "advice.h"
#include "profile.h"

#define PROFILE_CHECK_MAX_ITEMS 64

typedef struct ProfileChecker {
    CompileOptions o; /* the plan's compile inputs, from its SRCE chunk */
    const char *hw[PROFILE_CHECK_MAX_ITEMS], *sets[PROFILE_CHECK_MAX_ITEMS];
    AdviceFigures base; /* the recompiled plan: equals the plan's estimates */
    int ok, verbose;
    char why[512]; /* when not ok: why nothing can be checked */
} ProfileChecker;

/* Reads how p was compiled and recompiles it. 0, or -1 with pc->why (the spec is gone, no longer
 * compiles, or no longer gives this plan). The plan must outlive the checker. */
int profile_checker_init(ProfileChecker *pc, const TtcPlan *p, int verbose);
/* The TtcSuggestionCheck: `user` is the ProfileChecker. */
int profile_check_suggestion(void *user, const TtcPlan *p, int entry, const TtcSuggestion *s, const char *device,
                             char *effect, size_t n);

#endif
