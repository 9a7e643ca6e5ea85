# Reference p-values for the test choices of cnfs.contrasts (run: Rscript tests/reference/tests_reference.R).
# Monte Carlo chi-square p-values with a very large B (so that their own error is negligible beside the
# 20 000 tables of cnfs), Fisher-Freeman-Halton exact p-values, and the linear-by-linear trend statistic
# (M2 = (N - 1) r^2 computed from the expanded data with cor()). Writes tests_reference.csv.
set.seed(1)
tables <- list(
  t2x3 = matrix(c(6, 2, 1, 3, 7, 5), nrow = 2, byrow = TRUE),
  t3x4 = matrix(c(4, 1, 0, 2, 2, 5, 1, 0, 0, 2, 6, 3), nrow = 3, byrow = TRUE),
  t2x4 = matrix(c(10, 8, 3, 1, 4, 7, 9, 6), nrow = 2, byrow = TRUE)
)
rows <- list()
for (name in names(tables)) {
  t <- tables[[name]]
  mc <- suppressWarnings(chisq.test(t, simulate.p.value = TRUE, B = 2e6))
  fi <- fisher.test(t, workspace = 2e7)
  r <- row(t); cc <- col(t)
  x <- rep(as.vector(r), as.vector(t)); y <- rep(as.vector(cc), as.vector(t))
  m2 <- (sum(t) - 1) * cor(x, y)^2
  rows[[name]] <- data.frame(table = name, cells = paste(as.vector(t(t)), collapse = " "), nrow = nrow(t),
                             chi2 = unname(mc$statistic), p_monte_carlo = mc$p.value, p_fisher = fi$p.value,
                             lbl_m2 = m2, lbl_p = pchisq(m2, 1, lower.tail = FALSE))
}
write.csv(do.call(rbind, rows), "tests/reference/tests_reference.csv", row.names = FALSE)
