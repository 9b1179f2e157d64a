/* placeholder grammar until the real one lands */
%define api.pure full
%code { static int yylex(void *v) { (void)v; return 0; } static void yyerror(const char *m) { (void)m; } }
%define api.value.type {int}
%token END_PLACEHOLDER
%%
start: %empty ;
%%
int quy_placeholder_parse(void);
int quy_placeholder_parse(void) { return yyparse(); }
