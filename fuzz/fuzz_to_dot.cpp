// Property: to_dot of a graph with any names (graph and tasks), any statuses and any error
// messages is valid DOT, read the way Graphviz's own lexer reads it: it parses with a strict
// grammar, is valid UTF-8, has one node per task whose id decodes back to exactly the task's
// name (so distinct names are distinct nodes and no name can pass for a legend node), a label
// and tooltip showing the text as documented, its status colour, and exactly the graph's edges.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <taskmap/dot.hpp>

#include "fuzz_support.hpp"

using namespace taskmap;
using taskmap_fuzz::Bytes;
using taskmap_fuzz::check;
using taskmap_fuzz::fail;

namespace {

// --- A lexer and parser for the DOT this checker accepts: the language, strictly. ---

struct Token {
  enum Kind { word, quoted, punct, eof } kind = eof;
  std::string raw;    // as written, without the quotes of a quoted id
  std::string value;  // as Graphviz's lexer reads it: an escaped quote loses its backslash
};

std::vector<Token> lex(std::string_view dot) {
  std::vector<Token> tokens;
  std::size_t i = 0;
  auto id_char = [](unsigned char c) {
    return c == '_' || c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '.';
  };
  while (i < dot.size()) {
    const auto c = static_cast<unsigned char>(dot[i]);
    if (c == ' ' || c == '\n') {
      ++i;
    } else if (c == '"') {
      Token t{Token::quoted, {}, {}};
      ++i;
      for (;;) {
        check(i < dot.size(), "a quoted id is closed");
        const char q = dot[i];
        check(q != '\n' && q != '\r', "no raw line break inside a quoted id");
        check(static_cast<unsigned char>(q) >= 0x20 && q != 0x7F, "no control byte in a string");
        if (q == '"') {
          ++i;
          break;
        }
        if (q == '\\' && i + 1 < dot.size() && (dot[i + 1] == '"' || dot[i + 1] == '\\')) {
          t.raw += dot.substr(i, 2);
          if (dot[i + 1] == '"') {
            t.value += '"';
          } else {
            t.value += "\\\\";
          }
          i += 2;
          continue;
        }
        t.raw += q;
        t.value += q;
        ++i;
      }
      tokens.push_back(std::move(t));
    } else if (dot.substr(i, 2) == "->") {
      tokens.push_back({Token::punct, "->", "->"});
      i += 2;
    } else if (std::string_view("{}[]=;,").find(static_cast<char>(c)) != std::string_view::npos) {
      tokens.push_back({Token::punct, std::string(1, static_cast<char>(c)), {}});
      ++i;
    } else if (id_char(c)) {
      const std::size_t start = i;
      while (i < dot.size() && id_char(static_cast<unsigned char>(dot[i]))) ++i;
      std::string word(dot.substr(start, i - start));
      tokens.push_back({Token::word, word, word});
    } else {
      fail("a byte outside any DOT token");
    }
  }
  tokens.push_back({Token::eof, {}, {}});
  return tokens;
}

bool keyword(const std::string& word) {
  std::string lower;
  for (const char c : word) lower += static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
  return lower == "node" || lower == "edge" || lower == "graph" || lower == "digraph" ||
         lower == "subgraph" || lower == "strict";
}

struct Node {
  std::string id;    // raw text of the quoted id
  std::string read;  // the id as Graphviz reads it
  std::map<std::string, std::string> attributes;
};

struct Parsed {
  std::string graph_id;
  std::map<std::string, std::string> graph_attributes;  // the top-level `graph [...]`
  std::vector<Node> nodes;                              // top level, in order
  std::vector<std::pair<std::string, std::string>> edges;
  std::vector<std::string> legend_nodes;  // ids (as read) of nodes inside subgraphs
};

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : tokens_(std::move(tokens)) {}

  Parsed parse() {
    Parsed out;
    const Token head = next();
    check(head.kind == Token::word && head.raw == "digraph", "starts with digraph");
    const Token name = next();
    check(name.kind == Token::quoted, "the graph's id is quoted");
    out.graph_id = name.raw;
    statements(out, 0);
    check(peek().kind == Token::eof, "nothing after the closing brace");
    return out;
  }

 private:
  const Token& peek() const { return tokens_[at_]; }
  Token next() {
    check(at_ < tokens_.size(), "input ends early");
    return tokens_[at_ == tokens_.size() - 1 ? at_ : at_++];
  }
  bool is(const char* punct) const { return peek().kind == Token::punct && peek().raw == punct; }
  void expect(const char* punct) {
    check(next().raw == punct && tokens_[at_ - 1].kind == Token::punct, "expected punctuation");
  }

  std::string identifier() {
    const Token t = next();
    check(t.kind == Token::quoted || (t.kind == Token::word && !keyword(t.raw)),
          "an id is quoted or a plain word that is no keyword");
    return t.kind == Token::quoted ? t.raw : t.value;
  }

  std::map<std::string, std::string> attributes() {
    std::map<std::string, std::string> out;
    expect("[");
    while (!is("]")) {
      const std::string key = identifier();
      expect("=");
      const std::string value = identifier();
      check(out.emplace(key, value).second, "no attribute twice in one list");
      if (is(",") || is(";")) next();
    }
    expect("]");
    return out;
  }

  void statements(Parsed& out, int depth) {
    expect("{");
    while (!is("}")) {
      check(peek().kind != Token::eof, "every brace is closed");
      statement(out, depth);
      if (is(";")) next();
    }
    expect("}");
  }

  void statement(Parsed& out, int depth) {
    const Token& t = peek();
    if (t.kind == Token::word && (t.raw == "graph" || t.raw == "node" || t.raw == "edge")) {
      const std::string kind = next().raw;
      auto list = attributes();
      if (kind == "graph" && depth == 0) out.graph_attributes = std::move(list);
      return;
    }
    if (t.kind == Token::word && t.raw == "subgraph") {
      next();
      if (!is("{")) identifier();
      statements(out, depth + 1);
      return;
    }
    if (is("{")) {
      statements(out, depth + 1);
      return;
    }
    const Token first = peek();
    const std::string id = identifier();
    if (is("=")) {
      next();
      identifier();
      return;
    }
    std::vector<std::string> chain{id};
    std::vector<std::string> values{first.value};
    while (is("->")) {
      next();
      values.push_back(peek().value);
      chain.push_back(identifier());
    }
    std::map<std::string, std::string> list;
    if (is("[")) list = attributes();
    if (depth > 0) {
      for (const auto& value : values) out.legend_nodes.push_back(value);
      return;
    }
    check(first.kind == Token::quoted, "task ids are quoted");
    if (chain.size() == 1) {
      out.nodes.push_back({id, first.value, std::move(list)});
    } else {
      check(chain.size() == 2 && list.empty(), "one plain edge per statement");
      out.edges.emplace_back(chain[0], chain[1]);
    }
  }

  std::vector<Token> tokens_;
  std::size_t at_ = 0;
};

// --- What each quoted text must say. ---

// The inverse of the documented id escaping; fails on a backslash pair it never writes.
std::string decode_id(std::string_view raw) {
  std::string out;
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] != '\\') {
      out += raw[i];
      continue;
    }
    check(i + 1 < raw.size(), "an id does not end in a lone backslash");
    const char e = raw[++i];
    if (e == '\\' || e == '"') {
      out += e;
    } else if (e == 'n') {
      out += '\n';
    } else if (e == 'r') {
      out += '\r';
    } else if (e == 'x') {
      const std::string hex(raw.substr(i + 1, 2));
      check(hex.size() == 2 && hex.find_first_not_of("0123456789abcdef") == std::string::npos,
            "\\x has two lower-case hex digits");
      out += static_cast<char>(std::stoi(hex, nullptr, 16));
      i += 2;
    } else {
      fail("an id holds a backslash pair to_dot never writes");
    }
  }
  return out;
}

// A label as Graphviz shows it: \\ is a backslash, \" a quote, \n a line break; any other
// backslash pair (\l, \N, \G...) would be interpreted, so none may appear.
std::string decode_label(std::string_view raw) {
  std::string out;
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] != '\\') {
      out += raw[i];
      continue;
    }
    check(i + 1 < raw.size(), "a label does not end in a lone backslash");
    const char e = raw[++i];
    check(e == '\\' || e == '"' || e == 'n', "a label holds only \\\\, \\\" and \\n pairs");
    out += e == 'n' ? '\n' : e;
  }
  return out;
}

void append_code_point(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | cp >> 6);
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | cp >> 12);
    out += static_cast<char>(0x80 | (cp >> 6 & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | cp >> 18);
    out += static_cast<char>(0x80 | (cp >> 12 & 0x3F));
    out += static_cast<char>(0x80 | (cp >> 6 & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// What a label shows for `text`: newlines kept, other controls as their pictures, bytes of
// invalid UTF-8 as U+FFFD.
std::string shown(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size();) {
    const taskmap_fuzz::Decoded d = taskmap_fuzz::decode_utf8(text, i);
    if (d.length == 0) {
      append_code_point(out, 0xFFFD);
      ++i;
      continue;
    }
    if (d.code_point == '\n') {
      out += '\n';
    } else if (d.code_point < 0x20) {
      append_code_point(out, 0x2400 + d.code_point);
    } else if (d.code_point == 0x7F) {
      append_code_point(out, 0x2421);
    } else {
      out.append(text.substr(i, d.length));
    }
    i += d.length;
  }
  return out;
}

std::string unquote(const std::string& value) {
  return value.size() >= 2 && value.front() == '"' ? value.substr(1, value.size() - 2) : value;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Bytes in(data, size);
  TaskGraph<int> graph(taskmap_fuzz::pick_name(in));
  std::vector<std::string> names;
  const std::size_t tasks = in.byte() % 16;
  for (std::size_t t = 0; t < tasks; ++t) {
    std::string name = taskmap_fuzz::pick_name(in);
    std::vector<std::string> deps(names.empty() ? 0 : in.byte() % 4);
    for (std::string& dep : deps) dep = names[in.below(names.size())];
    if (graph.contains(name)) continue;
    graph.add_task(
        name, [] { return 0; }, deps);
    names.push_back(std::move(name));
  }
  std::map<std::string, std::string> tooltips;
  auto& state = detail::GraphAccess::state(graph);
  for (std::uint32_t id = 0; id < state.size(); ++id) {
    const auto status = static_cast<TaskStatus>(in.byte() % 6);
    state.status[id] = status;
    std::string tooltip(to_string(status));
    if (status == TaskStatus::failed || status == TaskStatus::skipped) {
      const std::string what = taskmap_fuzz::pick_name(in);
      state.errors[id] = std::make_exception_ptr(std::runtime_error(what));
      tooltip += ": ";
      tooltip += what.c_str();  // what() is a C string: it ends at a NUL
    }
    tooltips[state.names[id]] = tooltip;
  }
  const std::uint8_t flags = in.byte();
  DotOptions options;
  options.rankdir = static_cast<RankDir>(flags % 4);
  options.legend = (flags & 4) == 0;

  const std::string dot = to_dot(graph, options);
  check(taskmap_fuzz::valid_utf8(dot), "the DOT text is valid UTF-8");
  const Parsed parsed = Parser(lex(dot)).parse();

  check(decode_id(parsed.graph_id) == graph.name(), "the graph's id is its name");
  check(decode_label(unquote(parsed.graph_attributes.at("label"))) == shown(graph.name()),
        "the graph's label shows its name");

  std::set<std::string> read_ids;  // ids as Graphviz reads them: distinct per task
  std::set<std::string> seen;
  check(parsed.nodes.size() == graph.size(), "one node statement per task");
  for (const Node& node : parsed.nodes) {
    const std::string name = decode_id(node.id);
    check(graph.contains(name), "every node id decodes to a task's name");
    check(seen.insert(name).second, "no task is declared twice");
    check(read_ids.insert(node.read).second, "Graphviz reads distinct names as distinct ids");
    check(decode_label(unquote(node.attributes.at("label"))) == shown(name),
          "a node's label shows its name");
    check(decode_label(unquote(node.attributes.at("tooltip"))) == shown(tooltips.at(name)),
          "a node's tooltip shows its status and error");
    check(unquote(node.attributes.at("fillcolor")) == status_colour(graph.status(name)),
          "a node is filled with its status's colour");
  }
  for (const std::string& legend : parsed.legend_nodes) {
    check(legend.rfind("\\legend:", 0) == 0, "legend ids start with \\legend:");
    check(read_ids.count(legend) == 0, "no task passes for a legend node");
  }
  check(options.legend == !parsed.legend_nodes.empty(), "a legend exactly when asked for");

  std::multiset<std::pair<std::string, std::string>> edges;
  for (const std::string& task : names) {
    for (const std::string& dep : graph.dependencies(task)) edges.emplace(dep, task);
  }
  std::multiset<std::pair<std::string, std::string>> drawn;
  for (const auto& [from, to] : parsed.edges) drawn.emplace(decode_id(from), decode_id(to));
  check(drawn == edges, "the edges are exactly the graph's dependencies");
  return 0;
}
