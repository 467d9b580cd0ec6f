using DeepSeekMesh.ChatTemplates.Values;

namespace DeepSeekMesh.ChatTemplates.Syntax;

/// <summary>
/// Recursive-descent parser producing the AST. Operator precedence and the places where
/// conditional expressions / tuples are allowed follow Jinja's own parser.
/// </summary>
internal sealed class Parser
{
    private static readonly HashSet<string> TestArgStarters = ["else", "or", "and"];

    private readonly List<Token> _tokens;
    private int _i;
    private int _loopDepth;
    private int _nesting;
    private const int MaxNesting = 200;
    private readonly List<(string Tag, Token Token)> _openBlocks = [];

    private Parser(List<Token> tokens) => _tokens = tokens;

    public static TemplateNode Parse(string source)
    {
        var parser = new Parser(Lexer.Tokenize(source));
        var body = parser.Subparse(null, out _);
        return new TemplateNode(body);
    }

    // ---------------------------------------------------------------- token helpers

    private Token Current => _tokens[_i];

    private Token PeekAt(int offset) => _tokens[Math.Min(_i + offset, _tokens.Count - 1)];

    private Token Next()
    {
        var t = _tokens[_i];
        if (_i < _tokens.Count - 1) _i++;
        return t;
    }

    private static TemplateSyntaxException Error(string message, Token at) => new(message, at.Line, at.Column);

    private Token ExpectKind(TokenKind kind, string description)
    {
        if (Current.Kind != kind) throw Error($"Expected {description}, got {Current.Describe()}", Current);
        return Next();
    }

    private Token ExpectOp(string op)
    {
        if (!Current.IsOperator(op)) throw Error($"Expected '{op}', got {Current.Describe()}", Current);
        return Next();
    }

    private void ExpectName(string name)
    {
        if (!Current.IsName(name)) throw Error($"Expected '{name}', got {Current.Describe()}", Current);
        Next();
    }

    private void ExpectBlockEnd() => ExpectKind(TokenKind.BlockEnd, "end of statement block");

    private bool SkipOp(string op)
    {
        if (!Current.IsOperator(op)) return false;
        Next();
        return true;
    }

    private bool SkipName(string name)
    {
        if (!Current.IsName(name)) return false;
        Next();
        return true;
    }

    // ---------------------------------------------------------------- statements

    /// <summary>
    /// Parses template body until a block tag named in <paramref name="endTags"/>; leaves the
    /// position just after that tag's name and reports which one was found.
    /// </summary>
    private List<Stmt> Subparse(string[]? endTags, out string? matched)
    {
        var body = new List<Stmt>();
        matched = null;
        while (true)
        {
            var tok = Current;
            switch (tok.Kind)
            {
                case TokenKind.Text:
                    Next();
                    body.Add(new TextStmt(tok.Text, tok.Line));
                    break;
                case TokenKind.VariableBegin:
                    Next();
                    var expr = ParseTuple(withCondexpr: true);
                    ExpectKind(TokenKind.VariableEnd, "end of print statement");
                    body.Add(new OutputStmt(expr, tok.Line));
                    break;
                case TokenKind.BlockBegin:
                    var name = PeekAt(1);
                    if (name.Kind == TokenKind.Name && endTags is not null && Array.IndexOf(endTags, name.Text) >= 0)
                    {
                        Next();
                        Next();
                        matched = name.Text;
                        return body;
                    }
                    Next();
                    body.Add(ParseStatement());
                    break;
                case TokenKind.Eof:
                    if (endTags is not null)
                    {
                        var looking = string.Join(" or ", endTags.Select(t => $"'{t}'"));
                        var innermost = _openBlocks.Count > 0 ? _openBlocks[^1] : default;
                        var at = innermost.Tag is null ? tok : innermost.Token;
                        throw Error($"Unexpected end of template. Jinja was looking for the following tags: {looking}. "
                                    + $"The innermost block that needs to be closed is '{innermost.Tag}'", at);
                    }
                    return body;
                default:
                    throw Error($"Unexpected {tok.Describe()}", tok);
            }
        }
    }

    private List<Stmt> SubparseBlock(string tag, Token opener, string[] endTags, out string? matched)
    {
        if (_openBlocks.Count >= MaxNesting) throw Error("Blocks are nested too deeply", opener);
        _openBlocks.Add((tag, opener));
        var body = Subparse(endTags, out matched);
        _openBlocks.RemoveAt(_openBlocks.Count - 1);
        return body;
    }

    private Stmt ParseStatement()
    {
        var tok = Current;
        if (tok.Kind != TokenKind.Name) throw Error($"Expected a statement name, got {tok.Describe()}", tok);
        switch (tok.Text)
        {
            case "if": Next(); return ParseIf(tok);
            case "for": Next(); return ParseFor(tok);
            case "set": Next(); return ParseSet(tok);
            case "macro": Next(); return ParseMacro(tok);
            case "filter": Next(); return ParseFilterBlock(tok);
            case "do":
                Next();
                var e = ParseTuple(withCondexpr: true);
                ExpectBlockEnd();
                return new DoStmt(e, tok.Line);
            case "break":
            case "continue":
                Next();
                if (_loopDepth == 0) throw Error($"'{tok.Text}' outside of a loop", tok);
                ExpectBlockEnd();
                return tok.Text == "break" ? new BreakStmt(tok.Line) : new ContinueStmt(tok.Line);
            case "generation":
                Next();
                ExpectBlockEnd();
                var body = SubparseBlock("generation", tok, ["endgeneration"], out _);
                ExpectBlockEnd();
                return new GenerationStmt(body, tok.Line);
            default:
                throw Error($"Encountered unknown tag '{tok.Text}'", tok);
        }
    }

    private IfStmt ParseIf(Token start)
    {
        var branches = new List<(Expr, IReadOnlyList<Stmt>)>();
        List<Stmt>? elseBody = null;
        var cond = ParseTuple(withCondexpr: false);
        ExpectBlockEnd();
        while (true)
        {
            var body = SubparseBlock("if", start, ["elif", "else", "endif"], out var tag);
            branches.Add((cond, body));
            if (tag == "elif")
            {
                cond = ParseTuple(withCondexpr: false);
                ExpectBlockEnd();
                continue;
            }
            if (tag == "else")
            {
                ExpectBlockEnd();
                elseBody = SubparseBlock("if", start, ["endif"], out _);
            }
            ExpectBlockEnd();
            return new IfStmt(branches, elseBody, start.Line);
        }
    }

    private ForStmt ParseFor(Token start)
    {
        var target = ParseAssignTarget(withNamespace: false);
        ExpectName("in");
        var iterable = ParseTuple(withCondexpr: false, extraEnd: "recursive");
        Expr? filter = null;
        if (SkipName("if")) filter = ParseExpression(withCondexpr: true);
        bool recursive = SkipName("recursive");
        if (recursive) throw Error("Recursive loops are not supported", start);
        ExpectBlockEnd();
        _loopDepth++;
        var body = SubparseBlock("for", start, ["endfor", "else"], out var tag);
        _loopDepth--;
        List<Stmt>? elseBody = null;
        if (tag == "else")
        {
            ExpectBlockEnd();
            elseBody = SubparseBlock("for", start, ["endfor"], out _);
        }
        ExpectBlockEnd();
        return new ForStmt(target, iterable, filter, body, elseBody, recursive, start.Line);
    }

    private Stmt ParseSet(Token start)
    {
        var target = ParseAssignTarget(withNamespace: true);
        if (SkipOp("="))
        {
            var value = ParseTuple(withCondexpr: true);
            ExpectBlockEnd();
            return new SetStmt(target, value, start.Line);
        }

        var filters = ParseFilterChain();
        ExpectBlockEnd();
        var body = SubparseBlock("set", start, ["endset"], out _);
        ExpectBlockEnd();
        return new SetBlockStmt(target, body, filters, start.Line);
    }

    private MacroStmt ParseMacro(Token start)
    {
        var name = ExpectKind(TokenKind.Name, "macro name").Text;
        ExpectOp("(");
        var parameters = new List<MacroParam>();
        while (!Current.IsOperator(")"))
        {
            if (parameters.Count > 0) ExpectOp(",");
            if (Current.IsOperator(")")) break;
            var pname = ExpectKind(TokenKind.Name, "parameter name");
            Expr? def = null;
            if (SkipOp("=")) def = ParseExpression(withCondexpr: true);
            else if (parameters.Count > 0 && parameters[^1].Default is not null)
                throw Error("Non-default argument follows default argument", pname);
            parameters.Add(new MacroParam(pname.Text, def));
        }
        ExpectOp(")");
        ExpectBlockEnd();
        int savedDepth = _loopDepth;
        _loopDepth = 0;
        var body = SubparseBlock("macro", start, ["endmacro"], out _);
        _loopDepth = savedDepth;
        if (Current.Kind == TokenKind.Name && Current.Text == name) Next();
        ExpectBlockEnd();
        return new MacroStmt(name, parameters, body, start.Line);
    }

    private FilterBlockStmt ParseFilterBlock(Token start)
    {
        var filters = new List<(string, CallArgs, int)> { ParseOneFilter() };
        filters.AddRange(ParseFilterChain());
        ExpectBlockEnd();
        var body = SubparseBlock("filter", start, ["endfilter"], out _);
        ExpectBlockEnd();
        return new FilterBlockStmt(filters, body, start.Line);
    }

    private List<(string Name, CallArgs Args, int Line)> ParseFilterChain()
    {
        var filters = new List<(string, CallArgs, int)>();
        while (SkipOp("|")) filters.Add(ParseOneFilter());
        return filters;
    }

    private (string Name, CallArgs Args, int Line) ParseOneFilter()
    {
        var tok = ExpectKind(TokenKind.Name, "filter name");
        string name = tok.Text;
        while (Current.IsOperator(".") && PeekAt(1).Kind == TokenKind.Name)
        {
            Next();
            name += "." + Next().Text;
        }
        var args = Current.IsOperator("(") ? ParseCallArgs() : CallArgs.Empty;
        return (name, args, tok.Line);
    }

    // ---------------------------------------------------------------- assignment targets

    private Target ParseAssignTarget(bool withNamespace)
    {
        var first = ParseTargetItem(withNamespace);
        if (!Current.IsOperator(",")) return first;
        var items = new List<Target> { first };
        while (SkipOp(","))
        {
            if (Current.IsOperator("=") || Current.IsName("in") || Current.Kind == TokenKind.BlockEnd) break;
            items.Add(ParseTargetItem(withNamespace));
        }
        return new TupleTarget(items, first.Line);
    }

    private Target ParseTargetItem(bool withNamespace)
    {
        var tok = Current;
        if (tok.IsOperator("("))
        {
            Next();
            var inner = ParseAssignTarget(withNamespace);
            ExpectOp(")");
            return inner;
        }
        var name = ExpectKind(TokenKind.Name, "assignment target name");
        if (withNamespace && Current.IsOperator("."))
        {
            Next();
            var attr = ExpectKind(TokenKind.Name, "attribute name");
            return new AttrTarget(new NameExpr(name.Text, name.Line), attr.Text, name.Line);
        }
        if (name.Text is "true" or "false" or "none" or "True" or "False" or "None")
            throw Error($"Cannot assign to '{name.Text}'", name);
        return new NameTarget(name.Text, name.Line);
    }

    // ---------------------------------------------------------------- expressions

    /// <summary>An expression or an unparenthesized tuple (<c>a, b</c>).</summary>
    private Expr ParseTuple(bool withCondexpr, string? extraEnd = null, bool explicitParens = false)
    {
        var start = Current;
        var items = new List<Expr>();
        bool isTuple = false;
        while (true)
        {
            if (items.Count > 0) ExpectOp(",");
            if (IsTupleEnd(extraEnd)) break;
            items.Add(ParseExpression(withCondexpr));
            if (Current.IsOperator(",")) isTuple = true;
            else break;
        }

        if (!isTuple)
        {
            if (items.Count > 0) return items[0];
            if (!explicitParens) throw Error($"Expected an expression, got {start.Describe()}", start);
        }
        return new TupleExpr(items, start.Line);
    }

    private bool IsTupleEnd(string? extraEnd)
    {
        var t = Current;
        return t.Kind is TokenKind.VariableEnd or TokenKind.BlockEnd or TokenKind.Eof
               || t.IsOperator(")")
               || (extraEnd is not null && t.IsName(extraEnd));
    }

    private Expr ParseExpression(bool withCondexpr) => withCondexpr ? ParseCondExpr() : ParseOr();

    private Expr ParseCondExpr()
    {
        var line = Current.Line;
        var expr = ParseOr();
        while (SkipName("if"))
        {
            var cond = ParseOr();
            Expr? otherwise = SkipName("else") ? ParseCondExpr() : null;
            expr = new CondExpr(cond, expr, otherwise, line);
        }
        return expr;
    }

    private Expr ParseOr()
    {
        var left = ParseAnd();
        while (Current.IsName("or"))
        {
            var line = Next().Line;
            left = new OrExpr(left, ParseAnd(), line);
        }
        return left;
    }

    private Expr ParseAnd()
    {
        var left = ParseNot();
        while (Current.IsName("and"))
        {
            var line = Next().Line;
            left = new AndExpr(left, ParseNot(), line);
        }
        return left;
    }

    private Expr ParseNot()
    {
        if (Current.IsName("not"))
        {
            var line = Next().Line;
            return new UnaryExpr(UnaryOp.Not, ParseNot(), line);
        }
        return ParseCompare();
    }

    private Expr ParseCompare()
    {
        var line = Current.Line;
        var first = ParseMath1();
        List<(CompareOp, Expr)>? rest = null;
        while (true)
        {
            CompareOp op;
            var t = Current;
            if (t.Kind == TokenKind.Operator && t.Text is "==" or "!=" or "<" or "<=" or ">" or ">=")
            {
                op = t.Text switch
                {
                    "==" => CompareOp.Eq,
                    "!=" => CompareOp.Ne,
                    "<" => CompareOp.Lt,
                    "<=" => CompareOp.Le,
                    ">" => CompareOp.Gt,
                    _ => CompareOp.Ge,
                };
                Next();
            }
            else if (t.IsName("in"))
            {
                op = CompareOp.In;
                Next();
            }
            else if (t.IsName("not") && PeekAt(1).IsName("in"))
            {
                op = CompareOp.NotIn;
                Next();
                Next();
            }
            else
            {
                break;
            }
            (rest ??= []).Add((op, ParseMath1()));
        }
        return rest is null ? first : new CompareExpr(first, rest, line);
    }

    private Expr ParseMath1()
    {
        var left = ParseConcat();
        while (Current.IsOperator("+") || Current.IsOperator("-"))
        {
            var t = Next();
            left = new BinaryExpr(t.Text == "+" ? BinaryOp.Add : BinaryOp.Sub, left, ParseConcat(), t.Line);
        }
        return left;
    }

    private Expr ParseConcat()
    {
        var left = ParseMath2();
        while (Current.IsOperator("~"))
        {
            var t = Next();
            left = new BinaryExpr(BinaryOp.Concat, left, ParseMath2(), t.Line);
        }
        return left;
    }

    private Expr ParseMath2()
    {
        var left = ParsePow();
        while (Current.Kind == TokenKind.Operator && Current.Text is "*" or "/" or "//" or "%")
        {
            var t = Next();
            var op = t.Text switch
            {
                "*" => BinaryOp.Mul,
                "/" => BinaryOp.Div,
                "//" => BinaryOp.FloorDiv,
                _ => BinaryOp.Mod,
            };
            left = new BinaryExpr(op, left, ParsePow(), t.Line);
        }
        return left;
    }

    private Expr ParsePow()
    {
        var left = ParseUnary(withFilter: true);
        while (Current.IsOperator("**"))
        {
            var t = Next();
            left = new BinaryExpr(BinaryOp.Pow, left, ParseUnary(withFilter: true), t.Line);
        }
        return left;
    }

    private Expr ParseUnary(bool withFilter)
    {
        var t = Current;
        if (++_nesting > MaxNesting) throw Error("Expression is nested too deeply", t);
        try
        {
            return ParseUnaryCore(withFilter);
        }
        finally
        {
            _nesting--;
        }
    }

    private Expr ParseUnaryCore(bool withFilter)
    {
        var t = Current;
        Expr node;
        if (t.IsOperator("-"))
        {
            Next();
            node = new UnaryExpr(UnaryOp.Negate, ParseUnary(withFilter: false), t.Line);
        }
        else if (t.IsOperator("+"))
        {
            Next();
            node = new UnaryExpr(UnaryOp.Plus, ParseUnary(withFilter: false), t.Line);
        }
        else
        {
            node = ParsePrimary();
        }
        node = ParsePostfix(node);
        if (withFilter) node = ParseFilterExpr(node);
        return node;
    }

    private Expr ParsePrimary()
    {
        var t = Current;
        switch (t.Kind)
        {
            case TokenKind.Name:
                Next();
                return t.Text switch
                {
                    "true" or "True" => new ConstExpr(BoolValue.True, t.Line),
                    "false" or "False" => new ConstExpr(BoolValue.False, t.Line),
                    "none" or "None" => new ConstExpr(NoneValue.Instance, t.Line),
                    _ => new NameExpr(t.Text, t.Line),
                };
            case TokenKind.String:
                Next();
                string s = t.Text;
                while (Current.Kind == TokenKind.String) s += Next().Text;
                return new ConstExpr(new StringValue(s), t.Line);
            case TokenKind.Integer:
                Next();
                return new ConstExpr(new IntValue(t.IntValue), t.Line);
            case TokenKind.Float:
                Next();
                return new ConstExpr(new FloatValue(t.FloatValue), t.Line);
            case TokenKind.Operator when t.Text == "(":
                Next();
                var inner = ParseTuple(withCondexpr: true, explicitParens: true);
                ExpectOp(")");
                return inner;
            case TokenKind.Operator when t.Text == "[":
                Next();
                var items = new List<Expr>();
                while (!Current.IsOperator("]"))
                {
                    if (items.Count > 0) ExpectOp(",");
                    if (Current.IsOperator("]")) break;
                    items.Add(ParseExpression(withCondexpr: true));
                }
                ExpectOp("]");
                return new ListExpr(items, t.Line);
            case TokenKind.Operator when t.Text == "{":
                Next();
                var pairs = new List<(Expr, Expr)>();
                while (!Current.IsOperator("}"))
                {
                    if (pairs.Count > 0) ExpectOp(",");
                    if (Current.IsOperator("}")) break;
                    var key = ParseExpression(withCondexpr: true);
                    ExpectOp(":");
                    pairs.Add((key, ParseExpression(withCondexpr: true)));
                }
                ExpectOp("}");
                return new DictExpr(pairs, t.Line);
            default:
                throw Error($"Unexpected {t.Describe()}", t);
        }
    }

    private Expr ParsePostfix(Expr node)
    {
        while (true)
        {
            var t = Current;
            if (t.IsOperator("."))
            {
                Next();
                var attr = Current;
                if (attr.Kind == TokenKind.Name)
                {
                    Next();
                    node = new AttrExpr(node, attr.Text, t.Line);
                }
                else if (attr.Kind == TokenKind.Integer)
                {
                    Next();
                    node = new ItemExpr(node, new ConstExpr(new IntValue(attr.IntValue), attr.Line), t.Line);
                }
                else
                {
                    throw Error($"Expected an attribute name after '.', got {attr.Describe()}", attr);
                }
            }
            else if (t.IsOperator("["))
            {
                Next();
                node = ParseSubscript(node, t);
            }
            else if (t.IsOperator("("))
            {
                node = new CallExpr(node, ParseCallArgs(), t.Line);
            }
            else
            {
                return node;
            }
        }
    }

    private Expr ParseSubscript(Expr target, Token open)
    {
        Expr? start = null, stop = null, step = null;
        if (!Current.IsOperator(":"))
        {
            var key = ParseExpression(withCondexpr: true);
            if (!Current.IsOperator(":"))
            {
                ExpectOp("]");
                return new ItemExpr(target, key, open.Line);
            }
            start = key;
        }

        ExpectOp(":");
        if (!Current.IsOperator("]") && !Current.IsOperator(":")) stop = ParseExpression(withCondexpr: true);
        if (SkipOp(":") && !Current.IsOperator("]")) step = ParseExpression(withCondexpr: true);
        ExpectOp("]");
        return new SliceExpr(target, start, stop, step, open.Line);
    }

    private Expr ParseFilterExpr(Expr node)
    {
        while (true)
        {
            var t = Current;
            if (t.IsOperator("|"))
            {
                Next();
                var (name, args, line) = ParseOneFilter();
                node = new FilterExpr(node, name, args, line);
            }
            else if (t.IsName("is"))
            {
                Next();
                node = ParseTest(node, t);
            }
            else if (t.IsOperator("("))
            {
                node = new CallExpr(node, ParseCallArgs(), t.Line);
            }
            else
            {
                return node;
            }
        }
    }

    private Expr ParseTest(Expr node, Token isToken)
    {
        bool negated = SkipName("not");
        var nameTok = ExpectKind(TokenKind.Name, "test name");
        string name = nameTok.Text;
        while (Current.IsOperator(".") && PeekAt(1).Kind == TokenKind.Name)
        {
            Next();
            name += "." + Next().Text;
        }

        CallArgs args = CallArgs.Empty;
        var c = Current;
        if (c.IsOperator("("))
        {
            args = ParseCallArgs();
        }
        else if ((c.Kind is TokenKind.Name or TokenKind.String or TokenKind.Integer or TokenKind.Float
                  || c.IsOperator("[") || c.IsOperator("{"))
                 && !(c.Kind == TokenKind.Name && TestArgStarters.Contains(c.Text)))
        {
            if (c.IsName("is")) throw Error("You cannot chain multiple tests with is", c);
            var arg = ParsePostfix(ParsePrimary());
            args = new CallArgs([arg], []);
        }
        return new TestExpr(node, name, args, negated, isToken.Line);
    }

    private CallArgs ParseCallArgs()
    {
        ExpectOp("(");
        var positional = new List<Expr>();
        var named = new List<(string, Expr)>();
        while (!Current.IsOperator(")"))
        {
            if (positional.Count + named.Count > 0) ExpectOp(",");
            if (Current.IsOperator(")")) break;
            if (Current.Kind == TokenKind.Name && PeekAt(1).IsOperator("="))
            {
                var key = Next().Text;
                Next();
                named.Add((key, ParseExpression(withCondexpr: true)));
            }
            else
            {
                if (named.Count > 0) throw Error("Positional argument follows keyword argument", Current);
                positional.Add(ParseExpression(withCondexpr: true));
            }
        }
        ExpectOp(")");
        return positional.Count == 0 && named.Count == 0 ? CallArgs.Empty : new CallArgs(positional, named);
    }
}
