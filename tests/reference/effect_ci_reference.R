# Reference 95 % intervals of the effect sizes of cnfs.contrasts, from R's effectsize package
# (run: Rscript tests/reference/effect_ci_reference.R; Debian: apt-get install r-cran-effectsize).
# Two-sided intervals (alternative = "two.sided"), Cramér's V without the bias adjustment (adjust = FALSE).
# effectsize finds the noncentrality bounds with optim (Nelder-Mead), which stops up to ~1e-3 from them;
# ci_low_root / ci_high_root solve the same equations with uniroot (pchisq / pt / pf with ncp) to 1e-12.
# Writes effect_ci_reference.csv: one row per case, the estimate and its interval both ways.
suppressMessages(library(effectsize))
ncp_root <- function(cdf, p, upper) {
  if (cdf(0) <= p) return(0)
  uniroot(function(l) cdf(l) - p, c(0, upper), tol = 1e-12)$root
}
ncp_root_signed <- function(cdf, p, t) {
  uniroot(function(l) cdf(l) - p, c(t - 50, t + 50), tol = 1e-12)$root
}
x <- c(3, 5, 4, 6, 7, 5, 4, 8, 6, 5, 7, 6, 4, 5, 9)
y <- c(6, 7, 5, 8, 9, 7, 6, 10, 8, 7, 6, 9, 8)
z <- c(5, 6, 4, 7, 8, 6, 5, 9)
small_a <- c(2, 4, 3)
small_b <- c(5, 4, 6, 7)
tables <- list(
  t2x2 = matrix(c(30, 20, 18, 32), nrow = 2, byrow = TRUE),
  t2x4 = matrix(c(10, 8, 3, 1, 4, 7, 9, 6), nrow = 2, byrow = TRUE),
  t3x4 = matrix(c(14, 11, 6, 12, 12, 15, 11, 9, 7, 12, 16, 13), nrow = 3, byrow = TRUE),
  t2x3_null = matrix(c(50, 40, 30, 51, 39, 31), nrow = 2, byrow = TRUE)
)
row_of <- function(case, effect, e, value, root) {
  data.frame(case = case, effect = effect, estimate = value, ci_low = e$CI_low, ci_high = e$CI_high,
             ci_low_root = root[1], ci_high_root = root[2])
}
d_root <- function(b, a) {
  n1 <- length(a); n2 <- length(b); s <- sqrt(1 / n1 + 1 / n2)
  sp <- sqrt(((n1 - 1) * var(a) + (n2 - 1) * var(b)) / (n1 + n2 - 2))
  t <- (mean(b) - mean(a)) / sp / s
  cdf <- function(l) pt(t, n1 + n2 - 2, ncp = l)
  c(ncp_root_signed(cdf, 0.975, t), ncp_root_signed(cdf, 0.025, t)) * s
}
r_fisher <- function(b, a) {
  n1 <- length(a); n2 <- length(b)
  u <- suppressWarnings(wilcox.test(b, a, exact = FALSE))$statistic
  r <- 2 * u / (n1 * n2) - 1
  tanh(atanh(r) + c(-1, 1) * qnorm(0.975) * sqrt((n1 + n2 + 1) / (3 * n1 * n2)))
}
v_root <- function(t) {
  x <- unname(suppressWarnings(chisq.test(t, correct = FALSE))$statistic)
  df <- (nrow(t) - 1) * (ncol(t) - 1); k <- min(dim(t)) - 1
  cdf <- function(l) pchisq(x, df, ncp = l)
  pmin(1, sqrt(c(ncp_root(cdf, 0.975, 10 * x + 100), ncp_root(cdf, 0.025, 10 * x + 100)) / (sum(t) * k)))
}
rows <- list()
# Cohen's d of the second sample minus the first (cnfs: cohens_d(b, a)), pooled SD
d <- cohens_d(y, x, pooled_sd = TRUE, ci = 0.95, alternative = "two.sided")
rows[["d_xy"]] <- row_of("x_y", "cohens_d", d, d$Cohens_d, d_root(y, x))
d <- cohens_d(small_b, small_a, pooled_sd = TRUE, ci = 0.95, alternative = "two.sided")
rows[["d_small"]] <- row_of("small", "cohens_d", d, d$Cohens_d, d_root(small_b, small_a))
# rank-biserial correlation of the second sample against the first (cnfs: rank_biserial(a, b))
r <- rank_biserial(y, x, ci = 0.95, alternative = "two.sided")
rows[["r_xy"]] <- row_of("x_y", "rank_biserial", r, r$r_rank_biserial, r_fisher(y, x))
r <- rank_biserial(small_b, small_a, ci = 0.95, alternative = "two.sided")
rows[["r_small"]] <- row_of("small", "rank_biserial", r, r$r_rank_biserial, r_fisher(small_b, small_a))
# eta squared of a one-way ANOVA on three samples
g <- factor(rep(c("x", "y", "z"), c(length(x), length(y), length(z))))
a <- eta_squared(aov(c(x, y, z) ~ g), partial = FALSE, ci = 0.95, alternative = "two.sided")
f <- summary(aov(c(x, y, z) ~ g))[[1]]
fv <- f[["F value"]][1]; df1 <- f$Df[1]; df2 <- f$Df[2]
cdf <- function(l) pf(fv, df1, df2, ncp = l)
lam <- c(ncp_root(cdf, 0.975, 100 * fv + 100), ncp_root(cdf, 0.025, 100 * fv + 100))
rows[["eta"]] <- row_of("x_y_z", "eta_squared", a, a$Eta2, lam / (lam + df2))
for (name in names(tables)) {
  v <- cramers_v(tables[[name]], adjust = FALSE, ci = 0.95, alternative = "two.sided")
  rows[[name]] <- row_of(name, "cramers_v", v, v$Cramers_v, v_root(tables[[name]]))
}
out <- do.call(rbind, rows)
out$effectsize_version <- as.character(packageVersion("effectsize"))
write.csv(out, "tests/reference/effect_ci_reference.csv", row.names = FALSE)
