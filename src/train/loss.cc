#include "train/loss.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace kestrel::train {
namespace {

// log-softmax of x / temp into out (double).
template <class T>
void log_softmax(const T* x, int64_t n, double temp, double* out) {
  double mx = -INFINITY;
  for (int64_t i = 0; i < n; ++i) mx = std::max(mx, static_cast<double>(x[i]) / temp);
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += std::exp(static_cast<double>(x[i]) / temp - mx);
  const double lse = mx + std::log(sum);
  for (int64_t i = 0; i < n; ++i) out[i] = static_cast<double>(x[i]) / temp - lse;
}

}  // namespace

template <class T>
double kl_loss(const T* student, const float* teacher, int64_t n, int64_t n_vocab,
               double temperature, T* dlogits) {
  std::vector<double> ls(n_vocab), lt(n_vocab);
  double total = 0;
  const double t2 = temperature * temperature;
  for (int64_t i = 0; i < n; ++i) {
    log_softmax(student + i * n_vocab, n_vocab, temperature, ls.data());
    log_softmax(teacher + i * n_vocab, n_vocab, temperature, lt.data());
    double kl = 0;
    for (int64_t j = 0; j < n_vocab; ++j) {
      const double pt = std::exp(lt[j]);
      kl += pt * (lt[j] - ls[j]);
      // d/dz_j of T^2 KL(p_t || softmax(z/T)) = T (q_j - p_j); averaged over rows.
      if (dlogits != nullptr) {
        dlogits[i * n_vocab + j] = static_cast<T>(temperature * (std::exp(ls[j]) - pt) / n);
      }
    }
    total += t2 * kl;
  }
  return total / n;
}

template double kl_loss<float>(const float*, const float*, int64_t, int64_t, double, float*);
template double kl_loss<double>(const double*, const float*, int64_t, int64_t, double, double*);

double EvalTotals::perplexity() const { return n_nll > 0 ? std::exp(nll_sum / n_nll) : 0; }

void add_position(EvalTotals& t, const float* student, const float* teacher, int64_t n_vocab,
                  int32_t next_token) {
  std::vector<double> ls(n_vocab), lt(n_vocab);
  log_softmax(student, n_vocab, 1.0, ls.data());
  log_softmax(teacher, n_vocab, 1.0, lt.data());
  double kl = 0;
  for (int64_t j = 0; j < n_vocab; ++j) kl += std::exp(lt[j]) * (lt[j] - ls[j]);
  t.kl_sum += kl;
  const int64_t as = std::max_element(student, student + n_vocab) - student;
  const int64_t at = std::max_element(teacher, teacher + n_vocab) - teacher;
  t.top1_same += as == at ? 1 : 0;
  ++t.n;
  if (next_token >= 0) {
    t.nll_sum -= ls[next_token];
    ++t.n_nll;
  }
}

}  // namespace kestrel::train
