% Prolog in a .pl file: problemtools' reading; Verdict tells by the content.
main :- write('Hello world!'), nl.
