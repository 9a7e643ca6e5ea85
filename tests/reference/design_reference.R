# Reference values for cnfs.weights and cnfs.design, computed with R's survey package.
# Run from the repository root:  Rscript tests/reference/design_reference.R
# Reads design_sample.csv (deterministic synthetic sample, see make_design_sample.py) and writes
# design_reference_estimates.csv and design_reference_weights.csv beside this script.
# CI does not run R: the outputs are committed and the Python tests compare against them.
suppressPackageStartupMessages(library(survey))
options(digits = 17)
here <- "tests/reference"
d <- read.csv(file.path(here, "design_sample.csv"), colClasses = "character")
d$sector <- factor(d$sector, levels = c("public", "prive", "autre"))
d$size <- factor(d$size, levels = c("petite", "grande"))
d$pick <- factor(d$pick, levels = c("a", "b", "c"))
d$score <- as.numeric(d$score)
# not asked = empty; set to 0 so that the design keeps every row (subset() then zeroes their weight)
d$kinds_x <- as.numeric(ifelse(d$kinds__x == "", 0, d$kinds__x))
d$kinds_y <- as.numeric(ifelse(d$kinds__y == "", 0, d$kinds__y))
d$one <- 1
N <- 400
d$N <- N
# population totals (must match POPULATION in tests/test_design.py)
sector_tot <- c(public = 220, prive = 160, autre = 20)
size_tot <- c(petite = 200, grande = 200)

plain <- svydesign(ids = ~1, weights = ~one, data = d)
plain_fpc <- svydesign(ids = ~1, fpc = ~N, data = d)
rake1 <- function(des) calibrate(des, ~sector, population = c(`(Intercept)` = N, sectorprive = 160, sectorautre = 20),
                                 calfun = "raking", epsilon = 1e-15, maxit = 500)
rake2 <- function(des) calibrate(des, ~sector + size,
                                 population = c(`(Intercept)` = N, sectorprive = 160, sectorautre = 20, sizegrande = 200),
                                 calfun = "raking", epsilon = 1e-15, maxit = 500)
designs <- list(
  none = plain, none_fpc = plain_fpc,
  rake1 = rake1(plain), rake1_fpc = rake1(plain_fpc),
  rake2 = rake2(plain), rake2_fpc = rake2(plain_fpc)
)

rows <- list()
add <- function(case, quantity, est) {
  deffv <- if (is.null(attr(est, "deff"))) rep(NA, length(coef(est))) else diag(as.matrix(attr(est, "deff")))
  ci <- confint(est)
  rows[[length(rows) + 1]] <<- data.frame(case = case, quantity = quantity, option = names(coef(est)),
                                           estimate = unname(coef(est)), se = unname(SE(est)), deff = unname(deffv),
                                           ci_low = unname(ci[, 1]), ci_high = unname(ci[, 2]))
}
for (case in names(designs)) {
  des <- designs[[case]]
  dflag <- if (case == "none") "replace" else TRUE   # R's default deff is undefined for weights 1 without N
  add(case, "score", svymean(~score, des, deff = dflag))
  add(case, "pick", svymean(~pick, des, deff = dflag))
  add(case, "kinds_among_asked", svymean(~kinds_x + kinds_y, subset(des, filter == "oui"), deff = dflag))
  add(case, "score_prive", svymean(~score, subset(des, sector == "prive"), deff = dflag))
  add(case, "pick_grande_asked", svymean(~pick, subset(des, size == "grande" & filter == "oui"), deff = dflag))
}
est <- do.call(rbind, rows)
write.csv(est, file.path(here, "design_reference_estimates.csv"), row.names = FALSE)

w <- do.call(rbind, lapply(c("rake1", "rake2", "rake1_fpc", "rake2_fpc"), function(case)
  data.frame(case = case, respondent_id = d$respondent_id, weight = weights(designs[[case]]))))
write.csv(w, file.path(here, "design_reference_weights.csv"), row.names = FALSE)
cat("R", R.version$major, R.version$minor, "survey", as.character(packageVersion("survey")), "\n")
