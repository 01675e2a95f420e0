#!/usr/bin/env python3
"""Renders every template in templates/ over a set of conversations with Python's jinja2, set up
the way Hugging Face transformers renders chat templates (ImmutableSandboxedEnvironment with
trim_blocks and lstrip_blocks, the loopcontrols extension, raise_exception and strftime_now
globals, and its own tojson filter), and writes golden.json beside this script; also renders the one-feature templates of
snippets.py into snippets.json.

tests/tokenizer/chat_template_golden_test.cc renders the same cases with the project's
interpreter and compares byte for byte; where jinja2 raised, the C++ side must raise too.

Usage: python3 tests/golden/chat/generate.py   (needs jinja2 >= 3.1)
"""

import json
import os
from datetime import datetime

import jinja2
from jinja2.ext import loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment

from snippets import SNIPPETS

HERE = os.path.dirname(os.path.abspath(__file__))


def make_env():
    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        # transformers replaces jinja2's tojson (which escapes HTML) with plain json.dumps.
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators,
                          sort_keys=sort_keys)

    def strftime_now(fmt):
        return datetime.now().strftime(fmt)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                        extensions=[loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env


SPECIAL = ("  Line one\nLine \"two\" and 'three'\t\\ back\\slash {{ not a tag }} {% nor this %}"
           " — café, 中文, emoji 😀 \u00a0\n\n")

TOKENS = {
    "smollm2": ("<|im_start|>", "<|im_end|>"),
    "gemma3": ("<bos>", "<eos>"),
    "llama2": ("<s>", "</s>"),
    "mistral_instruct": ("<s>", "</s>"),
    "llama3": ("<|begin_of_text|>", "<|eot_id|>"),
    "llama3_1": ("<|begin_of_text|>", "<|eot_id|>"),
    "llama3_2": ("<|begin_of_text|>", "<|eot_id|>"),
    "qwen2": ("", "<|im_end|>"),
    "qwen2_5": ("", "<|im_end|>"),
    "chatml": ("", "<|im_end|>"),
}


def msg(role, content):
    return {"role": role, "content": content}


# Conversations every template renders (some are rejected by some templates: that is recorded).
CONVERSATIONS = {
    "single_user": [msg("user", "Hello!")],
    "system_user": [msg("system", "You are a pirate."), msg("user", "What is the capital of France?")],
    "multi_turn": [msg("user", "Hi"), msg("assistant", "Hello! How can I help?"),
                   msg("user", "Tell me a joke.")],
    "multi_turn_system": [msg("system", "Be brief."), msg("user", "Hi"),
                          msg("assistant", " Hello. "), msg("user", "Bye")],
    "ends_with_assistant": [msg("user", "2+2?"), msg("assistant", "4")],
    "special_characters": [msg("system", SPECIAL), msg("user", SPECIAL),
                           msg("assistant", SPECIAL), msg("user", "\t\n")],
    "empty_content": [msg("user", "")],
    "system_only": [msg("system", "Only a system prompt.")],
    "two_users_in_a_row": [msg("user", "One"), msg("user", "Two")],
    "starts_with_assistant": [msg("assistant", "I speak first"), msg("user", "ok")],
}

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather — in °C",
        "parameters": {
            "type": "object",
            "properties": {
                "location": {"type": "string", "description": "City, e.g. \"Paris\""},
                "days": {"type": "integer", "minimum": 1, "maximum": 7.5},
                "flags": {"type": "array", "items": {"type": "boolean"}, "default": [True, None]},
            },
            "required": ["location"],
        },
    },
}

TOOL_CONVERSATION = [
    msg("system", "You are a weather bot."),
    msg("user", "Weather in Paris?"),
    {"role": "assistant", "content": "", "tool_calls": [
        {"type": "function", "function": {"name": "get_weather",
                                          "arguments": {"location": "Paris", "days": 2}}}]},
    msg("tool", "{\"temperature\": 21.5, \"sky\": \"clear\"}"),
    msg("tool", "second result"),
]

# Extra cases for single templates: (template, name, variables beyond the defaults).
EXTRA = [
    ("gemma3", "content_parts", {"messages": [
        {"role": "system", "content": [{"type": "text", "text": " Be kind. "}]},
        {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": " Describe this. "}]},
    ]}),
    ("llama3_1", "tools_in_user_message", {"tools": [WEATHER_TOOL],
                                           "messages": TOOL_CONVERSATION[:2]}),
    ("llama3_1", "tools_in_system", {"tools": [WEATHER_TOOL], "tools_in_user_message": False,
                                     "date_string": "01 Jan 2025", "messages": TOOL_CONVERSATION[:4]}),
    ("llama3_1", "tool_call_and_response", {"messages": [TOOL_CONVERSATION[1], TOOL_CONVERSATION[2],
                                                         msg("ipython", {"temperature": 21.5})]}),
    ("llama3_1", "builtin_tools", {
        "builtin_tools": ["brave_search", "wolfram_alpha", "code_interpreter"],
        "messages": [msg("user", "Search"), {"role": "assistant", "tool_calls": [
            {"function": {"name": "brave_search", "arguments": {"query": "kestrel", "n": "3"}}}]}]}),
    ("llama3_1", "tools_without_user", {"tools": [WEATHER_TOOL], "messages": [msg("system", "x")]}),
    ("llama3_1", "two_tool_calls", {"messages": [msg("user", "x"), {"role": "assistant", "tool_calls": [
        {"function": {"name": "a", "arguments": {}}}, {"function": {"name": "b", "arguments": {}}}]}]}),
    ("llama3_2", "tools_in_user_message", {"tools": [WEATHER_TOOL], "messages": TOOL_CONVERSATION[:4]}),
    ("qwen2_5", "tools", {"tools": [WEATHER_TOOL], "messages": TOOL_CONVERSATION}),
    ("qwen2_5", "tools_no_system", {"tools": [WEATHER_TOOL], "messages": TOOL_CONVERSATION[1:4]}),
]


def render(env, source, variables):
    try:
        return {"output": env.from_string(source).render(**variables), "error": None}
    except jinja2.exceptions.TemplateSyntaxError as e:
        return {"output": None, "error": f"{type(e).__name__}: {e} (line {e.lineno})"}
    except jinja2.exceptions.TemplateError as e:  # includes UndefinedError
        return {"output": None, "error": f"{type(e).__name__}: {e}"}
    except (TypeError, ValueError, KeyError, IndexError, ArithmeticError) as e:
        return {"output": None, "error": f"{type(e).__name__}: {e}"}


def base_variables(name, messages, add_generation_prompt):
    bos, eos = TOKENS[name]
    # transformers always passes tools and documents (None when not given).
    variables = {"messages": messages, "tools": None, "documents": None,
                 "add_generation_prompt": add_generation_prompt, "bos_token": bos, "eos_token": eos}
    if name == "llama3_2":
        variables["date_string"] = "26 Jul 2024"  # else strftime_now makes the output time-dependent
    return variables


def main():
    env = make_env()
    templates = {}
    for f in sorted(os.listdir(os.path.join(HERE, "templates"))):
        if f.endswith(".jinja"):
            with open(os.path.join(HERE, "templates", f), encoding="utf-8") as fh:
                templates[f[:-len(".jinja")]] = fh.read()
    cases = []
    for name, source in templates.items():
        runs = [(conv, {"messages": m}) for conv, m in CONVERSATIONS.items()]
        runs += [(case, extra) for tname, case, extra in EXTRA if tname == name]
        for case, extra in runs:
            for gen in (False, True):
                variables = base_variables(name, extra["messages"], gen)
                variables.update(extra)
                result = render(env, source, variables)
                cases.append({"template": name, "case": f"{case}/{'gen' if gen else 'nogen'}",
                              "variables": variables, **result})
    with open(os.path.join(HERE, "golden.json"), "w", encoding="utf-8") as fh:
        json.dump({"jinja2_version": jinja2.__version__, "cases": cases}, fh, ensure_ascii=False,
                  indent=1)
        fh.write("\n")
    errors = sum(1 for c in cases if c["error"])
    print(f"wrote {len(cases)} cases ({errors} raise) for {len(templates)} templates")

    snippets = [{"name": name, "template": source, "variables": variables,
                 **render(env, source, variables)} for name, source, variables in SNIPPETS]
    with open(os.path.join(HERE, "snippets.json"), "w", encoding="utf-8") as fh:
        json.dump({"jinja2_version": jinja2.__version__, "snippets": snippets}, fh,
                  ensure_ascii=False, indent=1)
        fh.write("\n")
    print(f"wrote {len(snippets)} snippets")


if __name__ == "__main__":
    main()
