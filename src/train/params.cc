#include "train/params.h"

namespace kestrel::train {

template <class T>
Params<T> zero_params(const Config& cfg) {
  Params<T> p;
  const int64_t e = cfg.n_embd;
  p.tok_embd.assign(static_cast<int64_t>(cfg.n_vocab) * e, T(0));
  if (!cfg.tied_output) p.output.assign(static_cast<int64_t>(cfg.n_vocab) * e, T(0));
  p.output_norm.assign(e, T(0));
  p.layers.resize(cfg.n_layer);
  for (LayerParams<T>& l : p.layers) {
    l.attn_norm.assign(e, T(0));
    l.wq.assign(cfg.q_dim() * e, T(0));
    l.wk.assign(cfg.kv_dim() * e, T(0));
    l.wv.assign(cfg.kv_dim() * e, T(0));
    l.wo.assign(e * cfg.q_dim(), T(0));
    l.ffn_norm.assign(e, T(0));
    l.gate.assign(static_cast<int64_t>(cfg.n_ff) * e, T(0));
    l.up.assign(static_cast<int64_t>(cfg.n_ff) * e, T(0));
    l.down.assign(e * cfg.n_ff, T(0));
  }
  return p;
}

template <class T>
void for_each_tensor(const Config& cfg, Params<T>& p,
                     const std::function<void(const TensorRef&, std::vector<T>&)>& fn) {
  const int64_t e = cfg.n_embd;
  fn({"token_embd.weight", 2, {e, cfg.n_vocab}, true}, p.tok_embd);
  if (!cfg.tied_output) fn({"output.weight", 2, {e, cfg.n_vocab}, true}, p.output);
  fn({"output_norm.weight", 1, {e, 1}, false}, p.output_norm);
  for (int il = 0; il < cfg.n_layer; ++il) {
    const std::string b = "blk." + std::to_string(il) + ".";
    LayerParams<T>& l = p.layers[il];
    fn({b + "attn_norm.weight", 1, {e, 1}, false}, l.attn_norm);
    fn({b + "attn_q.weight", 2, {e, cfg.q_dim()}, false}, l.wq);
    fn({b + "attn_k.weight", 2, {e, cfg.kv_dim()}, false}, l.wk);
    fn({b + "attn_v.weight", 2, {e, cfg.kv_dim()}, false}, l.wv);
    fn({b + "attn_output.weight", 2, {cfg.q_dim(), e}, false}, l.wo);
    fn({b + "ffn_norm.weight", 1, {e, 1}, false}, l.ffn_norm);
    fn({b + "ffn_gate.weight", 2, {e, cfg.n_ff}, false}, l.gate);
    fn({b + "ffn_up.weight", 2, {e, cfg.n_ff}, false}, l.up);
    fn({b + "ffn_down.weight", 2, {cfg.n_ff, e}, false}, l.down);
  }
}

template Params<float> zero_params<float>(const Config&);
template Params<double> zero_params<double>(const Config&);
template void for_each_tensor<float>(
    const Config&, Params<float>&,
    const std::function<void(const TensorRef&, std::vector<float>&)>&);
template void for_each_tensor<double>(
    const Config&, Params<double>&,
    const std::function<void(const TensorRef&, std::vector<double>&)>&);

}  // namespace kestrel::train
