namespace DeepSeekMesh.ChatTemplates.Syntax;

internal enum TokenKind
{
    Text,
    VariableBegin,
    VariableEnd,
    BlockBegin,
    BlockEnd,
    Name,
    String,
    Integer,
    Float,
    Operator,
    Eof,
}

/// <summary>One lexical token with its 1-based source position.</summary>
internal readonly record struct Token(TokenKind Kind, string Text, int Line, int Column, long IntValue = 0, double FloatValue = 0)
{
    public bool IsOperator(string op) => Kind == TokenKind.Operator && Text == op;

    public bool IsName(string name) => Kind == TokenKind.Name && Text == name;

    public string Describe() => Kind switch
    {
        TokenKind.Eof => "end of template",
        TokenKind.VariableEnd => "end of print statement",
        TokenKind.BlockEnd => "end of statement block",
        TokenKind.VariableBegin => "begin of print statement",
        TokenKind.BlockBegin => "begin of statement block",
        TokenKind.Text => "template data",
        TokenKind.String => "string literal",
        _ => $"'{Text}'",
    };
}
