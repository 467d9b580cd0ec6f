using System.Globalization;
using System.Text;

namespace DeepSeekMesh.ChatTemplates.Runtime;

/// <summary>Python <c>datetime.strftime</c> for the C-locale directives (used by <c>strftime_now</c>).</summary>
internal static class Strftime
{
    private static readonly string[] Days = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
    private static readonly string[] Months =
        ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];

    public static string Format(DateTimeOffset t, string format)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < format.Length; i++)
        {
            char c = format[i];
            if (c != '%' || i + 1 >= format.Length) { sb.Append(c); continue; }
            char d = format[++i];
            bool noPad = false;
            if (d == '-' && i + 1 < format.Length) { noPad = true; d = format[++i]; }
            string Num(int v, int width) => noPad ? v.ToString(CultureInfo.InvariantCulture) : v.ToString(new string('0', width), CultureInfo.InvariantCulture);
            int hour12 = t.Hour % 12 == 0 ? 12 : t.Hour % 12;
            switch (d)
            {
                case 'a': sb.Append(Days[(int)t.DayOfWeek][..3]); break;
                case 'A': sb.Append(Days[(int)t.DayOfWeek]); break;
                case 'w': sb.Append((int)t.DayOfWeek); break;
                case 'd': sb.Append(Num(t.Day, 2)); break;
                case 'e': sb.Append(noPad ? t.Day.ToString(CultureInfo.InvariantCulture) : t.Day.ToString(CultureInfo.InvariantCulture).PadLeft(2)); break;
                case 'b':
                case 'h': sb.Append(Months[t.Month - 1][..3]); break;
                case 'B': sb.Append(Months[t.Month - 1]); break;
                case 'm': sb.Append(Num(t.Month, 2)); break;
                case 'y': sb.Append(Num(t.Year % 100, 2)); break;
                case 'Y': sb.Append(t.Year.ToString(CultureInfo.InvariantCulture)); break;
                case 'H': sb.Append(Num(t.Hour, 2)); break;
                case 'I': sb.Append(Num(hour12, 2)); break;
                case 'p': sb.Append(t.Hour < 12 ? "AM" : "PM"); break;
                case 'M': sb.Append(Num(t.Minute, 2)); break;
                case 'S': sb.Append(Num(t.Second, 2)); break;
                case 'f': sb.Append((t.Ticks % TimeSpan.TicksPerSecond / 10).ToString("000000", CultureInfo.InvariantCulture)); break;
                case 'j': sb.Append(Num(t.DayOfYear, 3)); break;
                case 'z':
                {
                    var off = t.Offset;
                    sb.Append(off < TimeSpan.Zero ? '-' : '+').Append(Math.Abs(off.Hours).ToString("00", CultureInfo.InvariantCulture))
                      .Append(Math.Abs(off.Minutes).ToString("00", CultureInfo.InvariantCulture));
                    break;
                }
                case 'Z': sb.Append(t.Offset == TimeSpan.Zero ? "UTC" : ""); break;
                case 'D': sb.Append(Format(t, "%m/%d/%y")); break;
                case 'F': sb.Append(Format(t, "%Y-%m-%d")); break;
                case 'T': sb.Append(Format(t, "%H:%M:%S")); break;
                case 'R': sb.Append(Format(t, "%H:%M")); break;
                case 'c': sb.Append(Format(t, "%a %b ")).Append(t.Day.ToString(CultureInfo.InvariantCulture).PadLeft(2)).Append(Format(t, " %H:%M:%S %Y")); break;
                case 'x': sb.Append(Format(t, "%m/%d/%y")); break;
                case 'X': sb.Append(Format(t, "%H:%M:%S")); break;
                case '%': sb.Append('%'); break;
                default: sb.Append('%').Append(noPad ? "-" : "").Append(d); break;
            }
        }
        return sb.ToString();
    }
}
