#!/usr/bin/env python3
"""Assembles the tokenizer corpus (corpus/*.txt) from text shipped with Debian packages and from
Python's own files. Run once; the corpus is committed. Sources are listed in README.md."""
import gettext
import os
import unicodedata

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus")


def write(name, text):
    data = text.encode("utf-8") if isinstance(text, str) else text
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)


def head_lines(path, max_bytes):
    out = []
    n = 0
    with open(path, encoding="utf-8") as f:
        for line in f:
            if n + len(line.encode()) > max_bytes:
                break
            out.append(line)
            n += len(line.encode())
    return "".join(out)


def translations(lang, domain="apt", max_bytes=2500):
    """Translated messages (msgstr) of a gettext catalog, in catalog order."""
    path = f"/usr/share/locale/{lang}/LC_MESSAGES/{domain}.mo"
    cat = gettext.GNUTranslations(open(path, "rb"))
    out, n = [], 0
    for msgid, msgstr in cat._catalog.items():
        if not isinstance(msgid, str) or not msgid or not msgstr:
            continue
        line = msgstr.rstrip("\n") + "\n"
        if n + len(line.encode()) > max_bytes:
            break
        out.append(line)
        n += len(line.encode())
    return "".join(out)


def main():
    os.makedirs(OUT, exist_ok=True)
    write("en_prose.txt", head_lines("/usr/share/common-licenses/GPL-3", 4000))
    write("code_python.txt", head_lines("/usr/lib/python3.11/textwrap.py", 3000))
    for lang, name in [("zh_CN", "zh"), ("ja", "ja"), ("ar", "ar"), ("ru", "ru"), ("el", "el"),
                       ("ko", "ko"), ("hi", "hi")]:
        domain = "apt" if lang != "hi" else "glib20"
        write(f"{name}_{domain}.txt", translations(lang, domain))
    # Emoji: single code points, skin tones, ZWJ families, flags, keycaps, variation selectors.
    emoji = [chr(c) for c in range(0x1F600, 0x1F650)] + [chr(c) for c in range(0x1F680, 0x1F6A0)]
    lines = []
    for i in range(0, len(emoji), 16):
        chunk = emoji[i:i + 16]
        lines.append(" ".join(chunk) + "  " + ", ".join(unicodedata.name(c).lower() for c in chunk[:3]))
    lines.append("\U0001F44D\U0001F3FD \U0001F44B\U0001F3FF \U0001F469\u200D\U0001F4BB "
                 "\U0001F468\u200D\U0001F469\u200D\U0001F467\u200D\U0001F466 "
                 "\U0001F1EF\U0001F1F5\U0001F1FA\U0001F1F8 1\uFE0F\u20E3 \u2764\uFE0F \u263A\uFE0E")
    lines.append("I love it!!!\U0001F602\U0001F602\U0001F602 ok\U0001F44C#tag @user \u2728done\u2728")
    write("emoji.txt", "\n".join(lines) + "\n")
    write("whitespace.txt",
          "a  b   c    d     e\n\n\nf\t\tg\t \th\r\ni\r\n\r\n  j\n"
          "        indented\n\t\ttabbed\n   \n\n \n\t\n"
          "no\u00a0break\u3000ideographic\u2003em  \u2028line\n"
          + " " * 40 + "x" + "\t" * 7 + "y" + "\n" * 12 + "z   \n   ")
    write("numbers.txt",
          "0 1 12 123 1234 12345 123456 1234567890 00042 3.14159 -2.5e-10 1,000,000 1.000.000\n"
          "2024-06-30T12:34:56Z 192.168.0.1 +1 (555) 010-9999 0x7FFF_FFFF 1e6 50% $19.99 \u20ac5\n"
          "\u0661\u0662\u0663 \u0967\u0968\u0969 \u2160\u2161\u2162 \u00bd \u00b2 \uff11\uff12\uff13 "
          "\u4e00\u4e8c\u4e09 99999999999999999999\n")
    write("special_tokens.txt",
          "<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
          "<|endoftext|><|endoftext|> <start_of_turn>user\nhello<end_of_turn>\n"
          "<start_of_turn>model\n<bos><eos><pad> <|eot_id|><|begin_of_text|> </s><s> <unk>\n"
          "<|im_start|<|im_end|>|> <<|im_end|>> <end_of_turn><end_of_turn>"
          "<table><tr><td>x</td></tr></table> <reponame>r<file_sep>f <mask>[multimodal]\n"
          "text<|im_start|>  <end_of_turn>  \n\n<start_of_image>")
    write("contractions.txt",
          "I'm sure you're right, it's what we've said: they'll go, he'd stay, don't CAN'T "
          "Won'T I'M. 'quoted' rock 'n' roll ''double'' 's 't\n"
          "Hello , world ! Is it ? Yes . A ' b 'll 'd 're 've\n")
    write("empty.txt", "")
    write("space.txt", " ")
    write("newlines.txt", "\n\n\n")
    # Not valid UTF-8: a lone continuation byte, a truncated sequence, an overlong form.
    write("invalid_utf8.bin", b"ok \x80 then \xe4\xbd and \xc0\xaf end \xff\xfe caf\xc3\xa9")


if __name__ == "__main__":
    main()
