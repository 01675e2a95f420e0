// Bit packing shared by Q5_0 and Q5_1: the low 4 bits of element j sit in qs like Q4_0 (j < 16 low
// nibble of byte j, j >= 16 high nibble of byte j - 16); bit 4 of element j is bit j of qh, a
// little-endian u32.
#pragma once

#include <cstdint>

namespace kestrel::quant {

// The 5-bit values of a block (0..31) in element order.
inline void unpack_q5(const uint8_t (&qs)[16], const uint8_t (&qh_bytes)[4], int (&q)[32]) {
  const uint32_t qh = qh_bytes[0] | (qh_bytes[1] << 8) | (qh_bytes[2] << 16) |
                      (static_cast<uint32_t>(qh_bytes[3]) << 24);
  for (int j = 0; j < 16; ++j) {
    q[j] = (qs[j] & 0x0f) | (((qh >> j) & 1) << 4);
    q[j + 16] = (qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4);
  }
}

// Packs 32 values (0..31) into qs and qh.
inline void pack_q5(const int (&q)[32], uint8_t (&qs)[16], uint8_t (&qh_bytes)[4]) {
  uint32_t qh = 0;
  for (int j = 0; j < 16; ++j) {
    qs[j] = static_cast<uint8_t>((q[j] & 0x0f) | ((q[j + 16] & 0x0f) << 4));
    qh |= static_cast<uint32_t>(q[j] >> 4) << j;
    qh |= static_cast<uint32_t>(q[j + 16] >> 4) << (j + 16);
  }
  for (int k = 0; k < 4; ++k) qh_bytes[k] = static_cast<uint8_t>(qh >> (8 * k));
}

}  // namespace kestrel::quant
