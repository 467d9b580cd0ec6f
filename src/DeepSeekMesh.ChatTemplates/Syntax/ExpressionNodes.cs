using DeepSeekMesh.ChatTemplates.Values;

namespace DeepSeekMesh.ChatTemplates.Syntax;

/// <summary>Base of all expression nodes. <see cref="Line"/> is 1-based.</summary>
internal abstract record Expr(int Line);

internal sealed record ConstExpr(Value Value, int Line) : Expr(Line);

internal sealed record NameExpr(string Name, int Line) : Expr(Line);

internal sealed record ListExpr(IReadOnlyList<Expr> Items, int Line) : Expr(Line);

internal sealed record TupleExpr(IReadOnlyList<Expr> Items, int Line) : Expr(Line);

internal sealed record DictExpr(IReadOnlyList<(Expr Key, Expr Value)> Pairs, int Line) : Expr(Line);

/// <summary><c>obj.name</c>: attribute first, then item (Jinja's getattr order).</summary>
internal sealed record AttrExpr(Expr Target, string Name, int Line) : Expr(Line);

/// <summary><c>obj[key]</c>: item first, then attribute (Jinja's getitem order).</summary>
internal sealed record ItemExpr(Expr Target, Expr Key, int Line) : Expr(Line);

internal sealed record SliceExpr(Expr Target, Expr? Start, Expr? Stop, Expr? Step, int Line) : Expr(Line);

internal sealed record CallArgs(IReadOnlyList<Expr> Positional, IReadOnlyList<(string Name, Expr Value)> Named)
{
    public static readonly CallArgs Empty = new([], []);
}

internal sealed record CallExpr(Expr Callee, CallArgs Args, int Line) : Expr(Line);

internal sealed record FilterExpr(Expr Target, string Name, CallArgs Args, int Line) : Expr(Line);

internal sealed record TestExpr(Expr Target, string Name, CallArgs Args, bool Negated, int Line) : Expr(Line);

internal enum UnaryOp { Negate, Plus, Not }

internal sealed record UnaryExpr(UnaryOp Op, Expr Operand, int Line) : Expr(Line);

internal enum BinaryOp { Add, Sub, Mul, Div, FloorDiv, Mod, Pow, Concat }

internal sealed record BinaryExpr(BinaryOp Op, Expr Left, Expr Right, int Line) : Expr(Line);

internal sealed record AndExpr(Expr Left, Expr Right, int Line) : Expr(Line);

internal sealed record OrExpr(Expr Left, Expr Right, int Line) : Expr(Line);

internal enum CompareOp { Eq, Ne, Lt, Le, Gt, Ge, In, NotIn }

/// <summary>A comparison chain: <c>a &lt; b &lt;= c</c> means <c>a &lt; b and b &lt;= c</c>.</summary>
internal sealed record CompareExpr(Expr First, IReadOnlyList<(CompareOp Op, Expr Operand)> Rest, int Line) : Expr(Line);

/// <summary><c>then if cond else otherwise</c>; a missing else gives undefined.</summary>
internal sealed record CondExpr(Expr Condition, Expr Then, Expr? Else, int Line) : Expr(Line);
