with Ada.Text_IO;
package body Greeting is
   procedure Say is
   begin
      Ada.Text_IO.Put_Line ("Hello world!");
   end Say;
end Greeting;
