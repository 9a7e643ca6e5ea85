# Independent check of `cnfs estimate` on the synthetic twin with R's survey package (not run by CI).
# Run from the repository root after `cnfs synth` (or any cnfs command that generates the twin):
#   Rscript tests/reference/twin_check.R [WAVE]     (WAVE: 1, 2 or all; default all)
# Reads the twin CSV and the population totals printed by `cnfs weights --margins` (written by the
# caller to /tmp/cnfs_margins.csv), and prints svymean estimates, se and deff for a single choice
# (education), a multi-select among those asked (difficulty_kinds) and a 1-10 scale (interest_mixed),
# unweighted with FPC, raked, raked with FPC.
suppressPackageStartupMessages(library(survey))
options(digits = 15)
args <- commandArgs(trailingOnly = TRUE)
wave <- if (length(args)) args[1] else "all"
d <- read.csv("data/synthetic/survey_synthetic.csv", colClasses = "character")
if (wave != "all") d <- d[d$wave == wave, ]
m <- read.csv("/tmp/cnfs_margins.csv", colClasses = c("character", "character", "numeric"))
N <- sum(m$total[m$variable == "structure_sector"])
d$N <- N
d$one <- 1
d$structure_sector <- factor(d$structure_sector, levels = m$code[m$variable == "structure_sector"])
d$education <- factor(d$education, levels = c("bac_ou_moins", "bac2", "bac3plus"))
d$interest_mixed <- as.numeric(d$interest_mixed)
kinds <- grep("^difficulty_kinds__", names(d), value = TRUE)
for (k in kinds) d[[k]] <- as.numeric(ifelse(d[[k]] == "", 0, d[[k]]))
pop <- c(`(Intercept)` = N, setNames(m$total[m$variable == "structure_sector"][-1],
                                     paste0("structure_sector", m$code[m$variable == "structure_sector"][-1])))
plain_fpc <- svydesign(ids = ~1, fpc = ~N, data = d)
plain <- svydesign(ids = ~1, weights = ~one, data = d)
rk <- function(des) calibrate(des, ~structure_sector, population = pop, calfun = "raking", epsilon = 1e-15, maxit = 500)
designs <- list(none_fpc = plain_fpc, raking = rk(plain), raking_fpc = rk(plain_fpc))
f_kinds <- as.formula(paste("~", paste(kinds, collapse = " + ")))
for (case in names(designs)) {
  des <- designs[[case]]
  for (q in list(list("education", ~education, des), list("difficulty_kinds", f_kinds, subset(des, start_difficulty == "oui")),
                 list("interest_mixed", ~interest_mixed, des))) {
    e <- svymean(q[[2]], q[[3]], deff = TRUE)
    out <- data.frame(case = case, question = q[[1]], option = names(coef(e)), estimate = unname(coef(e)),
                      se = unname(SE(e)), deff = unname(diag(as.matrix(attr(e, "deff")))))
    write.table(out, stdout(), sep = ",", row.names = FALSE, col.names = FALSE, quote = FALSE)
  }
}
