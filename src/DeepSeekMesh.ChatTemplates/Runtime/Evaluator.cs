using System.Text;
using DeepSeekMesh.ChatTemplates.Syntax;
using DeepSeekMesh.ChatTemplates.Values;

namespace DeepSeekMesh.ChatTemplates.Runtime;

/// <summary>
/// Tree-walking interpreter for one render. Not thread-safe; a new instance is made per render,
/// while the parsed <see cref="TemplateNode"/> is shared.
/// </summary>
internal sealed class Evaluator
{
    private const int MaxCallDepth = 200;

    private StringBuilder _out;
    private int _callDepth;

    public Evaluator(TimeProvider clock, int capacity = 1024)
    {
        Clock = clock;
        _out = new StringBuilder(capacity);
    }

    public TimeProvider Clock { get; }

    private enum Flow { Normal, Break, Continue }

    public string Render(TemplateNode template, Scope scope)
    {
        ExecBlock(template.Body, scope);
        return _out.ToString();
    }

    // ------------------------------------------------------------------ statements

    private Flow ExecBlock(IReadOnlyList<Stmt> body, Scope scope)
    {
        for (int i = 0; i < body.Count; i++)
        {
            var flow = Exec(body[i], scope);
            if (flow != Flow.Normal) return flow;
        }
        return Flow.Normal;
    }

    private Flow Exec(Stmt stmt, Scope scope)
    {
        try
        {
            switch (stmt)
            {
                case TextStmt t:
                    _out.Append(t.Text);
                    return Flow.Normal;
                case OutputStmt o:
                    Write(Eval(o.Expr, scope));
                    return Flow.Normal;
                case IfStmt i:
                    foreach (var (cond, body) in i.Branches)
                    {
                        if (Eval(cond, scope).IsTruthy) return ExecBlock(body, scope);
                    }
                    return i.Else is null ? Flow.Normal : ExecBlock(i.Else, scope);
                case ForStmt f:
                    ExecFor(f, scope);
                    return Flow.Normal;
                case SetStmt s:
                    Assign(s.Target, Eval(s.Value, scope), scope);
                    return Flow.Normal;
                case SetBlockStmt sb:
                {
                    Value captured = StringValue.Of(Capture(sb.Body, scope));
                    foreach (var (name, args, _) in sb.Filters) captured = Filters.Apply(name, captured, EvalArgs(args, scope), this);
                    Assign(sb.Target, captured, scope);
                    return Flow.Normal;
                }
                case MacroStmt m:
                    scope.Set(m.Name, new MacroValue(m, scope));
                    return Flow.Normal;
                case FilterBlockStmt fb:
                {
                    Value captured = StringValue.Of(Capture(fb.Body, scope));
                    foreach (var (name, args, _) in fb.Filters) captured = Filters.Apply(name, captured, EvalArgs(args, scope), this);
                    Write(captured);
                    return Flow.Normal;
                }
                case BreakStmt:
                    return Flow.Break;
                case ContinueStmt:
                    return Flow.Continue;
                case DoStmt d:
                    Eval(d.Expr, scope);
                    return Flow.Normal;
                case GenerationStmt g:
                    return ExecBlock(g.Body, scope);
                default:
                    throw new TemplateException($"Unsupported statement {stmt.GetType().Name}");
            }
        }
        catch (TemplateException ex)
        {
            ex.Line ??= stmt.Line;
            throw;
        }
    }

    private void Write(Value v)
    {
        if (v is StringValue s) _out.Append(s.Value);
        else _out.Append(v.ToStr());
    }

    private string Capture(IReadOnlyList<Stmt> body, Scope scope)
    {
        var saved = _out;
        _out = new StringBuilder();
        try
        {
            ExecBlock(body, scope);
            return _out.ToString();
        }
        finally
        {
            _out = saved;
        }
    }

    private void ExecFor(ForStmt f, Scope scope)
    {
        var source = Eval(f.Iterable, scope);
        var items = Operators.Iterate(source);
        if (f.Filter is not null)
        {
            var kept = new List<Value>(items.Count);
            foreach (var item in items)
            {
                var filterScope = new Scope(scope);
                Assign(f.Target, item, filterScope);
                if (Eval(f.Filter, filterScope).IsTruthy) kept.Add(item);
            }
            items = kept;
        }

        if (items.Count == 0)
        {
            if (f.Else is not null) ExecBlock(f.Else, scope);
            return;
        }

        // "loop" lives in a frame of its own; each iteration then gets a fresh frame, so (as in Jinja)
        // assignments in the body neither leak out of the loop nor carry over to the next iteration.
        var loopScope = new Scope(scope);
        var loop = new LoopValue(items);
        loopScope.Set("loop", loop);
        for (int i = 0; i < items.Count; i++)
        {
            loop.Index = i;
            var iterationScope = new Scope(loopScope);
            Assign(f.Target, items[i], iterationScope);
            if (ExecBlock(f.Body, iterationScope) == Flow.Break) break;
        }
    }

    private void Assign(Target target, Value value, Scope scope)
    {
        switch (target)
        {
            case NameTarget n:
                scope.Set(n.Name, value);
                break;
            case TupleTarget t:
            {
                if (value is UndefinedValue u) throw u.Fail();
                var items = Operators.Iterate(value);
                if (items.Count != t.Items.Count)
                {
                    throw new TemplateException(items.Count > t.Items.Count
                        ? $"too many values to unpack (expected {t.Items.Count})"
                        : $"not enough values to unpack (expected {t.Items.Count}, got {items.Count})");
                }
                for (int i = 0; i < items.Count; i++) Assign(t.Items[i], items[i], scope);
                break;
            }
            case AttrTarget a:
            {
                var obj = Eval(a.Object, scope);
                if (obj is not NamespaceValue ns)
                    throw new TemplateException("cannot assign attribute on non-namespace object");
                ns.Attributes[a.Attribute] = value;
                break;
            }
        }
    }

    // ------------------------------------------------------------------ expressions

    public Value Eval(Expr expr, Scope scope)
    {
        switch (expr)
        {
            case ConstExpr c:
                return c.Value;
            case NameExpr n:
                if (scope.TryGet(n.Name, out var v)) return v;
                if (Globals.TryGet(n.Name, out var g)) return g;
                return new UndefinedValue($"'{n.Name}' is undefined");
            case AttrExpr a:
                return Access.GetAttr(Eval(a.Target, scope), a.Name);
            case ItemExpr it:
                return Access.GetItem(Eval(it.Target, scope), Eval(it.Key, scope));
            case BinaryExpr b:
                return Operators.Binary(b.Op, Eval(b.Left, scope), Eval(b.Right, scope));
            case AndExpr and:
            {
                var left = Eval(and.Left, scope);
                return left.IsTruthy ? Eval(and.Right, scope) : left;
            }
            case OrExpr or:
            {
                var left = Eval(or.Left, scope);
                return left.IsTruthy ? left : Eval(or.Right, scope);
            }
            case UnaryExpr u:
                return u.Op == UnaryOp.Not
                    ? BoolValue.Of(!Eval(u.Operand, scope).IsTruthy)
                    : Operators.Negate(Eval(u.Operand, scope), u.Op == UnaryOp.Plus);
            case CompareExpr cmp:
            {
                var left = Eval(cmp.First, scope);
                foreach (var (op, operand) in cmp.Rest)
                {
                    var right = Eval(operand, scope);
                    if (!Operators.Compare(op, left, right)) return BoolValue.False;
                    left = right;
                }
                return BoolValue.True;
            }
            case CondExpr ce:
                if (Eval(ce.Condition, scope).IsTruthy) return Eval(ce.Then, scope);
                return ce.Else is null ? new UndefinedValue("the inline if-expression evaluated to false and no else section was defined") : Eval(ce.Else, scope);
            case FilterExpr f:
                return Filters.Apply(f.Name, Eval(f.Target, scope), EvalArgs(f.Args, scope), this);
            case TestExpr t:
            {
                bool result = Tests.Apply(t.Name, Eval(t.Target, scope), EvalArgs(t.Args, scope), this);
                return BoolValue.Of(result != t.Negated);
            }
            case CallExpr call:
                return EvalCall(call, scope);
            case ListExpr l:
            {
                var items = new List<Value>(l.Items.Count);
                foreach (var e in l.Items) items.Add(Eval(e, scope));
                return new ListValue(items);
            }
            case TupleExpr t:
            {
                var items = new List<Value>(t.Items.Count);
                foreach (var e in t.Items) items.Add(Eval(e, scope));
                return new ListValue(items, isTuple: true);
            }
            case DictExpr d:
            {
                var entries = new OrderedDictionary<Value, Value>(d.Pairs.Count);
                foreach (var (k, val) in d.Pairs)
                {
                    var key = Eval(k, scope);
                    if (key is DictValue or ListValue { IsTuple: false } or NamespaceValue or UndefinedValue)
                        throw new TemplateException($"unhashable type: '{key.TypeName}'");
                    entries[key] = Eval(val, scope);
                }
                return new DictValue(entries);
            }
            case SliceExpr s:
                return Operators.Slice(
                    Eval(s.Target, scope),
                    s.Start is null ? null : Eval(s.Start, scope),
                    s.Stop is null ? null : Eval(s.Stop, scope),
                    s.Step is null ? null : Eval(s.Step, scope));
            default:
                throw new TemplateException($"Unsupported expression {expr.GetType().Name}");
        }
    }

    private Arguments EvalArgs(CallArgs args, Scope scope)
    {
        if (args.Positional.Count == 0 && args.Named.Count == 0) return Arguments.Empty;
        var positional = new Value[args.Positional.Count];
        for (int i = 0; i < positional.Length; i++) positional[i] = Eval(args.Positional[i], scope);
        if (args.Named.Count == 0) return new Arguments(positional, []);
        var named = new KeyValuePair<string, Value>[args.Named.Count];
        for (int i = 0; i < named.Length; i++) named[i] = new(args.Named[i].Name, Eval(args.Named[i].Value, scope));
        return new Arguments(positional, named);
    }

    private Value EvalCall(CallExpr call, Scope scope)
    {
        var callee = Eval(call.Callee, scope);
        var args = EvalArgs(call.Args, scope);
        switch (callee)
        {
            case CallableValue fn:
                if (++_callDepth > MaxCallDepth)
                {
                    _callDepth = 0;
                    throw new TemplateException("maximum recursion depth exceeded");
                }
                try
                {
                    return fn.Invoke(args, this);
                }
                finally
                {
                    _callDepth = Math.Max(0, _callDepth - 1);
                }
            case UndefinedValue u:
                throw u.Hint is null ? new TemplateException("'Undefined' object is not callable") : u.Fail();
            default:
                throw new TemplateException($"'{callee.TypeName}' object is not callable");
        }
    }

    /// <summary>Runs a macro body with its arguments bound and returns the text it produced.</summary>
    internal Value CallMacro(MacroStmt macro, Scope closure, Arguments args)
    {
        var scope = new Scope(closure);
        var ps = macro.Params;
        if (args.Positional.Count > ps.Count)
            throw new TemplateException($"macro '{macro.Name}' takes not more than {ps.Count} argument(s)");
        foreach (var kv in args.Named)
        {
            int idx = -1;
            for (int i = 0; i < ps.Count; i++)
            {
                if (ps[i].Name == kv.Key) { idx = i; break; }
            }
            if (idx < 0) throw new TemplateException($"macro '{macro.Name}' takes no keyword argument '{kv.Key}'");
            if (idx < args.Positional.Count) throw new TemplateException($"macro '{macro.Name}' got multiple values for argument '{kv.Key}'");
        }

        for (int i = 0; i < ps.Count; i++)
        {
            Value? v = i < args.Positional.Count ? args.Positional[i] : null;
            if (v is null)
            {
                foreach (var kv in args.Named)
                {
                    if (kv.Key == ps[i].Name) { v = kv.Value; break; }
                }
            }
            v ??= ps[i].Default is { } def ? Eval(def, scope) : new UndefinedValue($"parameter '{ps[i].Name}' was not provided");
            scope.Set(ps[i].Name, v);
        }
        return StringValue.Of(Capture(macro.Body, scope));
    }
}

/// <summary>A macro defined by <c>{% macro %}</c>, closing over the scope it was defined in.</summary>
internal sealed class MacroValue(MacroStmt macro, Scope closure) : CallableValue
{
    public override string Name => macro.Name;

    public override string ToStr() => $"<Macro '{macro.Name}'>";

    public override Value Invoke(Arguments args, Evaluator evaluator) => evaluator.CallMacro(macro, closure, args);
}
