// Distillation loss and the yardsticks of a student against its teacher.
#pragma once

#include <cstdint>

namespace kestrel::train {

// Mean over n rows of T^2 * KL(softmax(teacher / T) || softmax(student / T)) (the T^2 keeps the
// gradient's scale independent of T, as in Hinton et al.). Writes d(loss)/d(student) into dlogits
// when it is not null. Rows are [n, n_vocab]. Sums run in double.
template <class T>
double kl_loss(const T* student, const float* teacher, int64_t n, int64_t n_vocab,
               double temperature, T* dlogits);

// Running totals of KL (T = 1), top-1 agreement and the student's next-token cross-entropy.
struct EvalTotals {
  double kl_sum = 0;
  double nll_sum = 0;   // -log p_student(next token)
  int64_t top1_same = 0;
  int64_t n = 0;        // positions compared (KL, top-1)
  int64_t n_nll = 0;    // positions with a next token

  double kl() const { return n > 0 ? kl_sum / n : 0; }
  double top1() const { return n > 0 ? static_cast<double>(top1_same) / n : 0; }
  double perplexity() const;
};

// Adds one position; next_token < 0 when there is none.
void add_position(EvalTotals& t, const float* student, const float* teacher, int64_t n_vocab,
                  int32_t next_token);

}  // namespace kestrel::train
