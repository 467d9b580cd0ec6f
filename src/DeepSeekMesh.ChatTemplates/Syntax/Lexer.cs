using System.Globalization;
using System.Text;

namespace DeepSeekMesh.ChatTemplates.Syntax;

/// <summary>
/// Splits template source into tokens. Whitespace handling follows Jinja as HuggingFace configures it:
/// trim_blocks and lstrip_blocks on, keep_trailing_newline off, newlines normalized to "\n",
/// and the explicit "-" / "+" markers on tags.
/// </summary>
internal sealed class Lexer
{
    private static readonly string[] MultiCharOperators = ["//", "**", "==", "!=", "<=", ">="];
    private const string SingleCharOperators = "+-*/%~<>=()[]{},.:|";

    private readonly string _src;
    private readonly List<int> _lineStarts = [0];
    private readonly List<Token> _tokens = [];
    private int _pos;
    private bool _lineStarting = true;

    private Lexer(string source)
    {
        _src = Normalize(source);
        for (int i = 0; i < _src.Length; i++)
        {
            if (_src[i] == '\n') _lineStarts.Add(i + 1);
        }
    }

    public static List<Token> Tokenize(string source)
    {
        var lexer = new Lexer(source);
        lexer.Run();
        return lexer._tokens;
    }

    /// <summary>"\r\n" and "\r" become "\n"; a single trailing newline is dropped (keep_trailing_newline=False).</summary>
    internal static string Normalize(string source)
    {
        string s = source.Contains('\r') ? source.Replace("\r\n", "\n").Replace('\r', '\n') : source;
        return s.EndsWith('\n') ? s[..^1] : s;
    }

    private (int Line, int Column) PositionOf(int offset)
    {
        int idx = _lineStarts.BinarySearch(offset);
        if (idx < 0) idx = ~idx - 1;
        return (idx + 1, offset - _lineStarts[idx] + 1);
    }

    private TemplateSyntaxException Error(string message, int offset)
    {
        var (line, col) = PositionOf(offset);
        return new TemplateSyntaxException(message, line, col);
    }

    private void Add(TokenKind kind, string text, int offset, long i = 0, double f = 0)
    {
        var (line, col) = PositionOf(offset);
        _tokens.Add(new Token(kind, text, line, col, i, f));
    }

    private int FindTagStart(int from)
    {
        int i = from;
        while (true)
        {
            i = _src.IndexOf('{', i);
            if (i < 0 || i + 1 >= _src.Length) return -1;
            char c = _src[i + 1];
            if (c == '{' || c == '%' || c == '#') return i;
            i++;
        }
    }

    private void Run()
    {
        int n = _src.Length;
        while (_pos < n)
        {
            int tag = FindTagStart(_pos);
            if (tag < 0)
            {
                Add(TokenKind.Text, _src[_pos..], _pos);
                _pos = n;
                break;
            }

            char kind = _src[tag + 1];
            int inner = tag + 2;
            char ctrl = inner < n && (_src[inner] == '-' || _src[inner] == '+') ? _src[inner] : '\0';
            if (ctrl != '\0') inner++;

            int rawBodyStart = kind == '%' ? MatchRawBegin(inner) : -1;
            EmitLeadingText(_pos, tag, ctrl, kind != '{');

            if (kind == '#')
            {
                LexComment(tag, inner);
            }
            else if (rawBodyStart >= 0)
            {
                _lineStarting = _src[rawBodyStart - 1] == '\n';
                LexRawBody(tag, rawBodyStart);
            }
            else
            {
                LexTag(tag, inner, kind == '%');
            }
        }

        Add(TokenKind.Eof, "", n);
    }

    /// <summary>Emits the data between the previous tag and a tag, applying "-" stripping or lstrip_blocks.</summary>
    private void EmitLeadingText(int start, int end, char ctrl, bool isBlockOrComment)
    {
        if (ctrl == '-')
        {
            while (end > start && IsSpace(_src[end - 1])) end--;
        }
        else if (ctrl != '+' && isBlockOrComment && end > start)
        {
            int lineStart = _src.LastIndexOf('\n', end - 1, end - start) + 1;
            if (lineStart == 0) lineStart = start; // no newline inside the data
            bool atLineStart = lineStart > start || _lineStarting;
            if (atLineStart && lineStart < end)
            {
                bool onlySpace = true;
                for (int i = lineStart; i < end; i++)
                {
                    if (!IsSpace(_src[i])) { onlySpace = false; break; }
                }
                if (onlySpace) end = lineStart;
            }
        }

        if (end > start) Add(TokenKind.Text, _src[start..end], start);
    }

    private void LexComment(int tag, int inner)
    {
        int close = _src.IndexOf("#}", inner, StringComparison.Ordinal);
        if (close < 0) throw Error("Missing end of comment tag", tag);
        int after = close + 2;
        char before = close - 1 >= inner ? _src[close - 1] : '\0';
        if (before == '-') after = SkipSpace(after);
        else if (before != '+' && after < _src.Length && _src[after] == '\n') after++;
        _pos = after;
        _lineStarting = _src[after - 1] == '\n';
    }

    /// <summary>If a raw block starts at <paramref name="inner"/> ("raw" then "%}"), returns where its body begins.</summary>
    private int MatchRawBegin(int inner)
    {
        int i = SkipSpace(inner);
        if (string.CompareOrdinal(_src, i, "raw", 0, 3) != 0) return -1;
        i = SkipSpace(i + 3);
        if (string.CompareOrdinal(_src, i, "-%}", 0, 3) == 0) return SkipSpace(i + 3);
        if (string.CompareOrdinal(_src, i, "%}", 0, 2) == 0) return i + 2;
        return -1;
    }

    private void LexRawBody(int tag, int bodyStart)
    {
        int search = bodyStart;
        while (true)
        {
            int open = _src.IndexOf("{%", search, StringComparison.Ordinal);
            if (open < 0) throw Error("Missing end of raw directive", tag);
            int i = open + 2;
            char ctrl = i < _src.Length && (_src[i] == '-' || _src[i] == '+') ? _src[i] : '\0';
            if (ctrl != '\0') i++;
            i = SkipSpace(i);
            if (string.CompareOrdinal(_src, i, "endraw", 0, 6) == 0)
            {
                int j = SkipSpace(i + 6);
                int after = -1;
                if (string.CompareOrdinal(_src, j, "+%}", 0, 3) == 0) after = j + 3;
                else if (string.CompareOrdinal(_src, j, "-%}", 0, 3) == 0) after = SkipSpace(j + 3);
                else if (string.CompareOrdinal(_src, j, "%}", 0, 2) == 0)
                {
                    after = j + 2;
                    if (after < _src.Length && _src[after] == '\n') after++;
                }

                if (after >= 0)
                {
                    EmitLeadingText(bodyStart, open, ctrl, true);
                    _pos = after;
                    _lineStarting = _src[after - 1] == '\n';
                    return;
                }
            }
            search = open + 2;
        }
    }

    private void LexTag(int tag, int inner, bool isBlock)
    {
        Add(isBlock ? TokenKind.BlockBegin : TokenKind.VariableBegin, isBlock ? "{%" : "{{", tag);
        var stack = new Stack<char>();
        int i = inner;
        int n = _src.Length;
        while (true)
        {
            i = SkipSpace(i);
            if (i >= n)
            {
                throw Error(isBlock ? "Unexpected end of template inside a statement block, missing '%}'"
                                    : "Unexpected end of template inside a print statement, missing '}}'", tag);
            }

            if (stack.Count == 0 && TryTagEnd(i, isBlock, out int after))
            {
                Add(isBlock ? TokenKind.BlockEnd : TokenKind.VariableEnd, isBlock ? "%}" : "}}", i);
                _pos = after;
                _lineStarting = _src[after - 1] == '\n';
                return;
            }

            char c = _src[i];
            if (char.IsLetter(c) || c == '_')
            {
                int s = i;
                while (i < n && (char.IsLetterOrDigit(_src[i]) || _src[i] == '_')) i++;
                Add(TokenKind.Name, _src[s..i], s);
            }
            else if (char.IsAsciiDigit(c))
            {
                i = LexNumber(i);
            }
            else if (c == '\'' || c == '"')
            {
                i = LexString(i);
            }
            else
            {
                string? op = null;
                foreach (var m in MultiCharOperators)
                {
                    if (string.CompareOrdinal(_src, i, m, 0, m.Length) == 0) { op = m; break; }
                }
                if (op is null && SingleCharOperators.Contains(c)) op = c.ToString();
                if (op is null) throw Error($"Unexpected char '{c}'", i);

                if (op is "(" or "[" or "{")
                {
                    stack.Push(op[0]);
                }
                else if (op is ")" or "]" or "}")
                {
                    char expected = op == ")" ? '(' : op == "]" ? '[' : '{';
                    if (stack.Count == 0) throw Error($"Unexpected '{op}'", i);
                    if (stack.Peek() != expected)
                    {
                        char open = stack.Peek();
                        char close = open == '(' ? ')' : open == '[' ? ']' : '}';
                        throw Error($"Unexpected '{op}', expected '{close}'", i);
                    }
                    stack.Pop();
                }

                Add(TokenKind.Operator, op, i);
                i += op.Length;
            }
        }
    }

    private bool TryTagEnd(int i, bool isBlock, out int after)
    {
        after = -1;
        if (isBlock)
        {
            if (string.CompareOrdinal(_src, i, "-%}", 0, 3) == 0) { after = SkipSpace(i + 3); return true; }
            if (string.CompareOrdinal(_src, i, "+%}", 0, 3) == 0) { after = i + 3; return true; }
            if (string.CompareOrdinal(_src, i, "%}", 0, 2) == 0)
            {
                after = i + 2;
                if (after < _src.Length && _src[after] == '\n') after++; // trim_blocks
                return true;
            }
            return false;
        }

        if (string.CompareOrdinal(_src, i, "-}}", 0, 3) == 0) { after = SkipSpace(i + 3); return true; }
        if (string.CompareOrdinal(_src, i, "}}", 0, 2) == 0) { after = i + 2; return true; }
        return false;
    }

    private int LexNumber(int start)
    {
        int n = _src.Length;
        int i = ScanDigits(start);
        bool isFloat = false;
        bool afterDot = start > 0 && _src[start - 1] == '.';
        if (!afterDot && i + 1 < n && _src[i] == '.' && char.IsAsciiDigit(_src[i + 1]))
        {
            isFloat = true;
            i = ScanDigits(i + 1);
        }
        if (!afterDot && i < n && (_src[i] == 'e' || _src[i] == 'E'))
        {
            int j = i + 1;
            if (j < n && (_src[j] == '+' || _src[j] == '-')) j++;
            if (j < n && char.IsAsciiDigit(_src[j]))
            {
                isFloat = true;
                i = ScanDigits(j);
            }
        }

        string text = _src[start..i].Replace("_", "");
        if (isFloat)
        {
            Add(TokenKind.Float, text, start, f: double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture));
        }
        else
        {
            if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long v))
                throw Error($"Integer literal '{text}' is too large", start);
            Add(TokenKind.Integer, text, start, i: v);
        }
        return i;
    }

    private int ScanDigits(int i)
    {
        int n = _src.Length;
        while (i < n && (char.IsAsciiDigit(_src[i]) || (_src[i] == '_' && i + 1 < n && char.IsAsciiDigit(_src[i + 1])))) i++;
        return i;
    }

    private int LexString(int start)
    {
        char quote = _src[start];
        int i = start + 1;
        int n = _src.Length;
        var sb = new StringBuilder();
        while (true)
        {
            if (i >= n) throw Error("Unterminated string literal", start);
            char c = _src[i];
            if (c == quote) { i++; break; }
            if (c != '\\') { sb.Append(c); i++; continue; }
            if (i + 1 >= n) throw Error("Unterminated string literal", start);
            i = DecodeEscape(i, sb);
        }
        Add(TokenKind.String, sb.ToString(), start);
        return i;
    }

    /// <summary>Decodes one backslash escape at <paramref name="i"/> the way Python's unicode-escape codec does.</summary>
    private int DecodeEscape(int i, StringBuilder sb)
    {
        char e = _src[i + 1];
        switch (e)
        {
            case '\n': return i + 2;
            case '\\': sb.Append('\\'); return i + 2;
            case '\'': sb.Append('\''); return i + 2;
            case '"': sb.Append('"'); return i + 2;
            case 'a': sb.Append('\a'); return i + 2;
            case 'b': sb.Append('\b'); return i + 2;
            case 'f': sb.Append('\f'); return i + 2;
            case 'n': sb.Append('\n'); return i + 2;
            case 'r': sb.Append('\r'); return i + 2;
            case 't': sb.Append('\t'); return i + 2;
            case 'v': sb.Append('\v'); return i + 2;
            case 'x': return AppendHex(i, 2, sb);
            case 'u': return AppendHex(i, 4, sb);
            case 'U': return AppendHex(i, 8, sb);
        }

        if (e >= '0' && e <= '7')
        {
            int j = i + 1;
            int value = 0;
            while (j < _src.Length && j < i + 4 && _src[j] >= '0' && _src[j] <= '7') value = value * 8 + (_src[j++] - '0');
            sb.Append((char)value);
            return j;
        }

        sb.Append('\\').Append(e);
        return i + 2;
    }

    private int AppendHex(int i, int digits, StringBuilder sb)
    {
        int start = i + 2;
        if (start + digits > _src.Length
            || !int.TryParse(_src.AsSpan(start, digits), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out int cp)
            || cp < 0 || cp > 0x10FFFF)
        {
            throw Error($"Invalid \\{_src[i + 1]} escape in string literal", i);
        }
        if (cp >= 0xD800 && cp <= 0xDFFF) sb.Append((char)cp);
        else sb.Append(char.ConvertFromUtf32(cp));
        return start + digits;
    }

    private int SkipSpace(int i)
    {
        while (i < _src.Length && IsSpace(_src[i])) i++;
        return i;
    }

    internal static bool IsSpace(char c) => char.IsWhiteSpace(c) || (c >= '\x1c' && c <= '\x1f');
}
